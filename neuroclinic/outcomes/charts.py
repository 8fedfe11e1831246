"""Clinic dashboard charts as inline SVG that works under the strict CSP.

As in `measures.trajectory`: no script, no `style` attribute or element, no external
reference; presentation attributes only; every text escaped. Each chart has a
`<title>` and the page puts a table with the same numbers beside it.
"""

from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from neuroclinic.outcomes.stats import Curve, Rate

WIDTH, HEIGHT = 560, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 28, 48
INK, GRID, BAR, ACCENT = "#1f2933", "#d9dee3", "#3b6ea8", "#b4462f"


def _open(title: str, chart_id: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby={quoteattr(chart_id)} class="outcome-chart">',
        f"<title id={quoteattr(chart_id)}>{escape(title)}</title>",
    ]


def _y_axis(parts: list[str], label: str) -> None:
    plot_h = HEIGHT - TOP - BOTTOM
    for pct in (0, 25, 50, 75, 100):
        y = TOP + plot_h * (1 - pct / 100)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{INK}">{pct}</text>'
        )
    parts.append(
        f'<text x="{LEFT}" y="{TOP - 10}" font-size="11" fill="{INK}">{escape(label)}</text>'
    )


def rate_bars(title: str, rates: Sequence[Rate], chart_id: str) -> str:
    """Bars of percentages with their 95% intervals drawn as whiskers."""
    parts = _open(title, chart_id)
    _y_axis(parts, "% of patients")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(rates), 1)

    def y(value: Decimal) -> float:
        return TOP + plot_h * (1 - float(value) / 100)

    for i, rate in enumerate(rates):
        x = LEFT + slot * i + slot * 0.2
        w = slot * 0.6
        if rate.percent is not None:
            parts.append(
                f'<rect x="{x:.1f}" y="{y(rate.percent):.1f}" width="{w:.1f}" '
                f'height="{TOP + plot_h - y(rate.percent):.1f}" fill="{BAR}"/>'
            )
            interval = rate.interval
            if interval:
                cx = x + w / 2
                parts.append(
                    f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(interval[0]):.1f}" '
                    f'y2="{y(interval[1]):.1f}" stroke="{ACCENT}" stroke-width="2"/>'
                )
        parts.append(
            f'<text x="{x + w / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'font-size="11" fill="{INK}">{escape(rate.label)}</text>'
        )
        parts.append(
            f'<text x="{x + w / 2:.1f}" y="{HEIGHT - BOTTOM + 30}" text-anchor="middle" '
            f'font-size="10" fill="{INK}">n={rate.total}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def survival_steps(
    title: str, curve: Curve, chart_id: str, *, max_days: float | None = None
) -> str:
    """A Kaplan-Meier curve as a step line: % still without the event, by day."""
    parts = _open(title, chart_id)
    _y_axis(parts, "% without the event")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = max_days or max((t for t, _ in curve.points), default=1.0) or 1.0

    def xy(t: float, s: float) -> tuple[float, float]:
        return LEFT + plot_w * min(t / span, 1.0), TOP + plot_h * (1 - s)

    if curve.points:
        coords: list[str] = []
        previous: float | None = None
        for t, s in curve.points:
            x, y = xy(t, s)
            if previous is not None:
                coords.append(f"{x:.1f},{previous:.1f}")
            coords.append(f"{x:.1f},{y:.1f}")
            previous = y
        coords.append(f"{LEFT + plot_w:.1f},{previous:.1f}")
        parts.append(
            f'<polyline points="{" ".join(coords)}" fill="none" stroke="{BAR}" stroke-width="2"/>'
        )
    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        x = LEFT + plot_w * frac
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
            f'fill="{INK}">{round(span * frac)}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
        f'font-size="11" fill="{INK}">days</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
