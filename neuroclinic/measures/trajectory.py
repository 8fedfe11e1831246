"""Outcome trajectory: one instrument's totals over time, as accessible inline SVG.

What the chart shows and how to read it: docs/clinical/trajectories.md.
Response and remission follow `outcomes.py` (Source: K5, K21, M17): response is a
total at least `response_reduction_percent` below the episode's baseline (default
50%, `RESPONSE_REDUCTION_PERCENT`, so the response line sits at half the baseline);
remission is a total at or below the instrument's `remission_max` (PHQ-9 4, i.e.
"< 5"). The caller chooses the baseline (per treatment episode), and passes the
clinic's response percentage and remission threshold (`OutcomeRules`, the medical
director's settings).
A score on or below a line meets it.

Severity bands are shaded from half a point below their lowest total to half a
point above their highest, so every whole-number total sits inside its own band
rather than on an edge (PHQ-9 "mild" 5-9 spans 4.5 to 9.5).

The SVG is meant to be inlined into a page under a strict CSP: no script, no
external references, no `style` attributes or elements (presentation attributes
such as fill= and stroke= only), and every piece of text, including the title and
event labels, is XML-escaped with characters XML cannot carry removed.
`trajectory_rows` gives the same data as a table for screen readers and print.

Pure module: standard library and the pure `neuroclinic.measures` package only.
"""

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import NamedTuple
from xml.sax.saxutils import escape

from neuroclinic.measures.instruments import Band, Severity
from neuroclinic.measures.outcomes import (
    RESPONSE_REDUCTION_PERCENT,
    is_response,
    response_change,
)


@dataclass(frozen=True)
class TrajectoryPoint:
    taken_on: date
    total: int


@dataclass(frozen=True)
class TrajectoryEvent:
    """A treatment event marked on the chart ("Infusion 1", "Booster"); keep labels short."""

    on: date
    label: str


class TrajectoryRow(NamedTuple):
    taken_on: date
    total: int
    # Percent change from baseline, negative when better; None without a baseline.
    change_percent: Decimal | None
    band: Severity | None

    @property
    def band_label(self) -> str:
        return band_label(self.band) if self.band is not None else ""


def band_label(severity: Severity) -> str:
    return severity.value.replace("_", " ").capitalize()


# Layout (pixels) and look ----------------------------------------------------------

MIN_WIDTH = 320
MIN_HEIGHT = 180
_LEFT = 44  # y tick labels
_RIGHT = 124  # band labels
_BOTTOM = 40  # date ticks and the year under them
_TITLE_HEIGHT = 30
_EVENT_ROW_HEIGHT = 12
_EVENT_ROWS = 3  # label rows above the plot; a label that fits none keeps its <title>
_INNER_PAD = 12  # keeps the first and last markers off the axes
_CHAR_WIDTH = 5.8  # rough width of a 10 px sans-serif character, for collisions
_HEADING_CHAR_WIDTH = 7.6  # the same for the 13 px bold heading
_MIN_TICK_GAP = 12

# Light fills on a calm-to-warm scale. Bands are spread over the whole scale, so the
# lowest band is always the calmest and the highest the warmest, whatever their number.
BAND_FILLS = ("#e4f2e5", "#eef5d8", "#fdf2cf", "#fde2c8", "#f8d3cf")
_INK = "#222222"
_MUTED = "#5a5a5a"
_AXIS = "#8a8a8a"
_GRID = "#e3e3e3"
_SCORE = "#1f4e9a"
_EVENT = "#7a3e9d"
_RESPONSE = "#333333"
_REMISSION = "#2e7d32"

_MONTHS = (
    *("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
    *("Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)  # fixed English names: strftime("%b") would follow the server's locale
_DAY_STEPS = (1, 2, 7, 14)
_MONTH_STEPS = (1, 2, 3, 6)
_YEAR_STEPS = (1, 2, 5, 10, 20, 50, 100)
_SCORE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500)

# XML 1.0 cannot carry these characters even escaped (control characters, lone
# surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text.removesuffix(".0")


def _points_label(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def _short_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}"


# Rows ------------------------------------------------------------------------------


def _band_of(total: int, bands: Sequence[Band]) -> Severity | None:
    return next(
        (band.severity for band in bands if band.lowest <= total <= band.highest), None
    )


def _change(total: int, baseline: int | None) -> Decimal | None:
    if not baseline:  # None, or 0 where percent change is undefined
        return None
    return response_change(baseline_total=baseline, current_total=total)


def trajectory_rows(
    points: Sequence[TrajectoryPoint],
    baseline: int | None,
    *,
    bands: Sequence[Band] = (),
) -> list[TrajectoryRow]:
    """The chart's points as table rows, oldest first: date, total, % change, band."""
    return [
        TrajectoryRow(
            point.taken_on,
            point.total,
            _change(point.total, baseline),
            _band_of(point.total, bands),
        )
        for point in sorted(points, key=lambda point: point.taken_on)
    ]


# Ticks -----------------------------------------------------------------------------


def _month_starts(start: date, end: date, every: int) -> list[date]:
    ticks: list[date] = []
    year, month = start.year, start.month
    while True:
        first = date(year, month, 1)
        if first > end:
            return ticks
        if first >= start and (month - 1) % every == 0:
            ticks.append(first)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _date_ticks(start: date, end: date, max_ticks: int) -> list[date]:
    span = (end - start).days
    for step in _DAY_STEPS:
        if span // step + 1 <= max_ticks:
            return [start + timedelta(days=k) for k in range(0, span + 1, step)]
    for every in _MONTH_STEPS:
        ticks = _month_starts(start, end, every)
        if len(ticks) <= max_ticks:
            return ticks
    every_years = next(
        (
            every
            for every in _YEAR_STEPS
            if (end.year - start.year) // every + 1 <= max_ticks
        ),
        _YEAR_STEPS[-1],
    )
    return [
        date(year, 1, 1)
        for year in range(start.year, end.year + 1)
        if year % every_years == 0 and start <= date(year, 1, 1) <= end
    ]


def _score_ticks(
    bands: Sequence[Band], y_max: int, y_of: Callable[[float], float]
) -> list[int]:
    if bands:
        candidates = sorted(
            {0, y_max, *(band.lowest for band in bands if 0 <= band.lowest <= y_max)}
        )
    else:
        step = next((s for s in _SCORE_STEPS if y_max / s <= 6), _SCORE_STEPS[-1])
        candidates = sorted({*range(0, y_max + 1, step), y_max})
    kept: list[int] = []
    for value in candidates:
        if not kept or y_of(kept[-1]) - y_of(value) >= _MIN_TICK_GAP:
            kept.append(value)
    return kept


# Event labels ----------------------------------------------------------------------


def _event_rows(spans: Sequence[tuple[float, float]]) -> list[int | None]:
    """A label row for each (left, right) span, in date order; None where no row has room."""
    row_ends = [float("-inf")] * _EVENT_ROWS
    rows: list[int | None] = []
    for left, right in spans:
        row = next((i for i, end in enumerate(row_ends) if left >= end + 4), None)
        if row is not None:
            row_ends[row] = right
        rows.append(row)
    return rows


# Validation ------------------------------------------------------------------------


def _check_total(value: int, *, name: str, y_max: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value <= y_max:
        raise ValueError(f"{name} must be 0-{y_max}, got {value}")


def _check(
    *,
    points: Sequence[TrajectoryPoint],
    y_max: int,
    baseline: int | None,
    remission_max: int | None,
    response_reduction_percent: int,
    width: int,
    height: int,
) -> None:
    if isinstance(y_max, bool) or y_max <= 0:
        raise ValueError(f"y_max must be a positive int, got {y_max!r}")
    if isinstance(response_reduction_percent, bool) or not (
        0 < response_reduction_percent <= 100
    ):
        raise ValueError(
            "response_reduction_percent must be an int from 1 to 100,"
            f" got {response_reduction_percent!r}"
        )
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise ValueError(f"the chart needs at least {MIN_WIDTH}x{MIN_HEIGHT} pixels")
    for point in points:
        _check_total(point.total, name="a point's total", y_max=y_max)
    if baseline is not None:
        _check_total(baseline, name="baseline", y_max=y_max)
    if remission_max is not None:
        _check_total(remission_max, name="remission_max", y_max=y_max)


# Summary ---------------------------------------------------------------------------


def _summary(
    *,
    title: str,
    ordered: Sequence[TrajectoryPoint],
    bands: Sequence[Band],
    events: Sequence[TrajectoryEvent],
    baseline: int | None,
    remission_max: int | None,
    response_reduction_percent: int,
) -> str:
    """One sentence for <desc>: range, latest band, response and remission."""
    if not ordered:
        return f"{title}: no scores recorded."
    first, last = ordered[0], ordered[-1]
    if len(ordered) == 1:
        sentence = f"{title}: one score, {last.total} on {last.taken_on.isoformat()}"
    else:
        sentence = (
            f"{title} from {first.total} on {first.taken_on.isoformat()} to"
            f" {last.total} on {last.taken_on.isoformat()} ({len(ordered)} scores)"
        )
    latest: list[str] = []
    band = _band_of(last.total, bands)
    if band is not None:
        latest.append(band_label(band).lower())
    if baseline:
        change = response_change(baseline_total=baseline, current_total=last.total)
        if change:
            direction = "below" if change < 0 else "above"
            latest.append(f"{abs(change)}% {direction} baseline {baseline}")
        else:
            latest.append(f"at baseline {baseline}")
        reached = is_response(
            baseline_total=baseline,
            current_total=last.total,
            reduction_percent=response_reduction_percent,
        )
        latest.append(f"response {'reached' if reached else 'not reached'}")
    if latest:
        sentence += "; latest score " + ", ".join(latest)
    if remission_max is not None:
        if last.total <= remission_max:
            sentence += f"; remission reached ({remission_max} or less)"
        else:
            sentence += f"; not in remission (needs {remission_max} or less)"
    if events:
        plural = "s" if len(events) != 1 else ""
        sentence += f"; {len(events)} treatment event{plural} marked"
    return sentence + "."


# Chart -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """Where the plot sits and how dates and scores map to pixels."""

    width: int
    height: int
    y_max: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    start: date | None  # None when there is nothing dated to draw
    end: date | None
    only_day: date | None = None  # the one date drawn, when there is only one

    @property
    def inner_left(self) -> float:
        return self.plot_left + _INNER_PAD

    @property
    def inner_right(self) -> float:
        return self.plot_right - _INNER_PAD

    def x(self, day: date) -> float:
        if self.start is None or self.end is None:
            raise ValueError("no dates on this chart")
        fraction = (day - self.start).days / (self.end - self.start).days
        return self.inner_left + fraction * (self.inner_right - self.inner_left)

    def y(self, value: float) -> float:
        span = self.plot_bottom - self.plot_top
        return self.plot_bottom - value / self.y_max * span


@dataclass(frozen=True)
class _ReferenceLine:
    value: float
    name: str
    label: str
    colour: str
    dash: str  # a stroke-dasharray value, or "" for solid
    short_label: str = ""  # for narrow charts, where `label` would cover the scores


def _heading(title: str, width: int) -> str:
    """The visible title, cut to fit the chart; <title> keeps it whole."""
    fits = int((width - _LEFT - 8) / _HEADING_CHAR_WIDTH)
    return title if len(title) <= fits else title[: fits - 1].rstrip() + "\u2026"


def _chart_id(*parts: object) -> str:
    # Stable across renders, distinct across charts, for aria-labelledby on one page.
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:10]
    return f"trajectory-{digest}"


# A white outline behind text so it stays legible over lines and fills.
_HALO = 'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'


def _band_fill(index: int, count: int) -> str:
    if count <= 1:
        return BAND_FILLS[0]
    return BAND_FILLS[round(index * (len(BAND_FILLS) - 1) / (count - 1))]


def _bands_layer(frame: _Frame, bands: Sequence[Band]) -> list[str]:
    out = ['<g class="trajectory-bands">']
    previous_label_y = float(frame.height)
    ordered = sorted(bands, key=lambda band: band.lowest)
    for index, band in enumerate(ordered):
        low = max(band.lowest - 0.5, 0.0)
        high = min(band.highest + 0.5, float(frame.y_max))
        if high <= low:
            continue
        top, bottom = frame.y(high), frame.y(low)
        name = _text(band_label(band.severity))
        out.append(
            f'<rect x="{_num(frame.plot_left)}" y="{_num(top)}"'
            f' width="{_num(frame.plot_right - frame.plot_left)}"'
            f' height="{_num(bottom - top)}" fill="{_band_fill(index, len(ordered))}">'
            f"<title>{name}: {band.lowest}-{band.highest}</title></rect>"
        )
        # Bottom-up, nudged up so neighbouring names never overlap.
        label_y = min((top + bottom) / 2 + 4, previous_label_y - _MIN_TICK_GAP)
        previous_label_y = label_y
        out.append(
            f'<text x="{_num(frame.plot_right + 6)}" y="{_num(label_y)}"'
            f' fill="{_MUTED}">{name}</text>'
        )
    out.append("</g>")
    return out


def _axes_layer(frame: _Frame, bands: Sequence[Band]) -> list[str]:
    left, right = _num(frame.plot_left), _num(frame.plot_right)
    bottom = frame.plot_bottom
    out = ['<g class="trajectory-axes">']
    for value in _score_ticks(bands, frame.y_max, frame.y):
        y = _num(frame.y(value))
        if not bands:  # bands already show the scale; gridlines would clutter them
            out.append(
                f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="{_GRID}"/>'
            )
        out.append(
            f'<line x1="{_num(frame.plot_left - 4)}" y1="{y}" x2="{left}" y2="{y}"'
            f' stroke="{_AXIS}"/>'
        )
        out.append(
            f'<text x="{_num(frame.plot_left - 7)}" y="{_num(frame.y(value) + 4)}"'
            f' text-anchor="end" fill="{_MUTED}">{value}</text>'
        )
    out.append(
        f'<line x1="{left}" y1="{_num(frame.plot_top)}" x2="{left}" y2="{_num(bottom)}"'
        f' stroke="{_AXIS}"/>'
    )
    out.append(
        f'<line x1="{left}" y1="{_num(bottom)}" x2="{right}" y2="{_num(bottom)}"'
        f' stroke="{_AXIS}"/>'
    )
    if frame.start is not None and frame.end is not None:
        max_ticks = max(2, int(frame.inner_right - frame.inner_left) // 80)
        previous_year = None
        ticks = (
            [frame.only_day]
            if frame.only_day is not None
            else _date_ticks(frame.start, frame.end, max_ticks)
        )
        for tick in ticks:
            x = _num(frame.x(tick))
            out.append(
                f'<line x1="{x}" y1="{_num(bottom)}" x2="{x}" y2="{_num(bottom + 4)}"'
                f' stroke="{_AXIS}"/>'
            )
            out.append(
                f'<text x="{x}" y="{_num(bottom + 16)}" text-anchor="middle"'
                f' fill="{_MUTED}">{_short_date(tick)}</text>'
            )
            if tick.year != previous_year:  # the year once, then where it changes
                out.append(
                    f'<text x="{x}" y="{_num(bottom + 29)}" text-anchor="middle"'
                    f' font-size="10" fill="{_MUTED}">{tick.year}</text>'
                )
                previous_year = tick.year
    out.append("</g>")
    return out


def _reference_lines(
    *,
    baseline: int | None,
    response_line: bool,
    remission_max: int | None,
    response_reduction_percent: int,
) -> list[_ReferenceLine]:
    lines = []
    if baseline is not None:
        lines.append(
            _ReferenceLine(baseline, "baseline", f"Baseline {baseline}", _MUTED, "")
        )
        if response_line and baseline > 0:
            # A total at or below this line is `response_reduction_percent` or more
            # below baseline: (baseline - t) * 100 >= percent * baseline.
            response_at = baseline * (100 - response_reduction_percent) / 100
            short = f"Response \u2264 {_points_label(response_at)}"
            label = f"{short} ({response_reduction_percent}% below baseline)"
            lines.append(
                _ReferenceLine(
                    response_at, "response", label, _RESPONSE, "6 4", short_label=short
                )
            )
    if remission_max is not None:
        label = f"Remission \u2264 {remission_max}"
        lines.append(
            _ReferenceLine(remission_max, "remission", label, _REMISSION, "2 3")
        )
    return sorted(lines, key=lambda line: line.value)


def _score_marks(
    frame: _Frame, ordered: Sequence[TrajectoryPoint]
) -> list[tuple[float, float]]:
    """Where the score line is drawn: each marker and points along each segment."""
    marks = [(frame.x(point.taken_on), frame.y(point.total)) for point in ordered]
    along = [
        (x0 + (x1 - x0) * step / 4, y0 + (y1 - y0) * step / 4)
        for (x0, y0), (x1, y1) in pairwise(marks)
        for step in (1, 2, 3)
    ]
    return marks + along


def _label_position(
    frame: _Frame, label: str, label_y: float, marks: Sequence[tuple[float, float]]
) -> tuple[float, str]:
    """x and text-anchor for a line's label: the right end, else wherever the scores are not."""
    width = len(label) * _CHAR_WIDTH
    middle = (frame.plot_left + frame.plot_right) / 2
    candidates = (
        (frame.plot_right - 4, "end", frame.plot_right - 4 - width),
        (frame.plot_left + 4, "start", frame.plot_left + 4),
        (middle, "middle", middle - width / 2),
    )

    def covered(left: float) -> int:
        return sum(
            left - 5 <= x <= left + width + 5 and label_y - 14 <= y <= label_y + 6
            for x, y in marks
        )

    x, anchor, _ = min(candidates, key=lambda candidate: covered(candidate[2]))
    return x, anchor


def _lines_layer(
    frame: _Frame,
    lines: Sequence[_ReferenceLine],
    marks: Sequence[tuple[float, float]],
) -> list[str]:
    out = ['<g class="trajectory-lines">']
    previous_above: float | None = None
    for line in lines:
        y = frame.y(line.value)
        # A label sits above its line, or below it when the line under it is too close.
        label_y = y - 4
        if previous_above is not None and previous_above - label_y < _MIN_TICK_GAP:
            label_y = y + 12
        previous_above = y - 4
        label = line.label
        too_wide = len(label) * _CHAR_WIDTH > (frame.plot_right - frame.plot_left) / 2
        if too_wide and line.short_label:
            label = line.short_label
        x, anchor = _label_position(frame, label, label_y, marks)
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        out.append(
            f'<line class="trajectory-{line.name}" x1="{_num(frame.plot_left)}"'
            f' y1="{_num(y)}" x2="{_num(frame.plot_right)}" y2="{_num(y)}"'
            f' stroke="{line.colour}" stroke-width="1.25"{dash}/>'
        )
        out.append(
            f'<text x="{_num(x)}" y="{_num(label_y)}" text-anchor="{anchor}"'
            f' font-size="10" fill="{line.colour}" {_HALO}>{_text(label)}</text>'
        )
    out.append("</g>")
    return out


def _event_spans(
    frame: _Frame, events: Sequence[TrajectoryEvent]
) -> list[tuple[float, float]]:
    spans = []
    for event in events:
        half = (len(event.label) * _CHAR_WIDTH + 4) / 2
        centre = min(max(frame.x(event.on), half + 2), frame.width - half - 2)
        spans.append((centre - half, centre + half))
    return spans


def _events_layer(
    frame: _Frame,
    events: Sequence[TrajectoryEvent],
    spans: Sequence[tuple[float, float]],
    rows: Sequence[int | None],
) -> list[str]:
    out = ['<g class="trajectory-events">']
    for event, (left, right), row in zip(events, spans, rows, strict=True):
        x = _num(frame.x(event.on))
        tooltip = _text(f"{event.on.isoformat()}: {event.label}")
        out.append(
            f'<line x1="{x}" y1="{_num(frame.plot_top)}" x2="{x}"'
            f' y2="{_num(frame.plot_bottom)}" stroke="{_EVENT}" stroke-width="1"'
            f' stroke-dasharray="3 3"><title>{tooltip}</title></line>'
        )
        if row is not None:
            label_y = _TITLE_HEIGHT + (row + 1) * _EVENT_ROW_HEIGHT - 3
            out.append(
                f'<text x="{_num((left + right) / 2)}" y="{label_y}"'
                f' text-anchor="middle" font-size="10" fill="{_EVENT}">'
                f"{_text(event.label)}<title>{tooltip}</title></text>"
            )
    out.append("</g>")
    return out


def _scores_layer(
    frame: _Frame,
    ordered: Sequence[TrajectoryPoint],
    baseline: int | None,
    bands: Sequence[Band],
) -> list[str]:
    out = ['<g class="trajectory-scores">']
    if not ordered:
        out.append(
            f'<text x="{_num((frame.plot_left + frame.plot_right) / 2)}"'
            f' y="{_num((frame.plot_top + frame.plot_bottom) / 2)}"'
            f' text-anchor="middle" fill="{_MUTED}">No scores recorded yet</text>'
        )
        out.append("</g>")
        return out

    # Markers shrink as scores crowd, so 500 of them still read as a line.
    spacing = (frame.inner_right - frame.inner_left) / max(len(ordered) - 1, 1)
    radius = 4.0 if spacing >= 12 else 3.0 if spacing >= 6 else 1.75
    if len(ordered) > 1:
        coordinates = " ".join(
            f"{_num(frame.x(point.taken_on))},{_num(frame.y(point.total))}"
            for point in ordered
        )
        out.append(
            f'<polyline points="{coordinates}" fill="none" stroke="{_SCORE}"'
            f' stroke-width="{2 if spacing >= 6 else 1.25}" stroke-linejoin="round"/>'
        )
    outline = ' stroke="#ffffff" stroke-width="1.5"' if radius >= 3 else ""
    for row in trajectory_rows(ordered, baseline, bands=bands):
        tooltip = f"{row.taken_on.isoformat()}: {row.total}"
        if row.change_percent is not None:
            tooltip += f", {row.change_percent:+}% from baseline"
        if row.band is not None:
            tooltip += f" ({row.band_label})"
        out.append(
            f'<circle class="trajectory-point" cx="{_num(frame.x(row.taken_on))}"'
            f' cy="{_num(frame.y(row.total))}" r="{_num(radius)}" fill="{_SCORE}"'
            f"{outline}><title>{_text(tooltip)}</title></circle>"
        )
    out.append("</g>")
    return out


def trajectory_svg(
    *,
    title: str,
    points: Sequence[TrajectoryPoint],
    bands: Sequence[Band],
    y_max: int,
    events: Sequence[TrajectoryEvent] = (),
    baseline: int | None = None,
    response_line: bool = True,
    response_reduction_percent: int = RESPONSE_REDUCTION_PERCENT,
    remission_max: int | None = None,
    width: int = 720,
    height: int = 260,
) -> str:
    """The chart as an `<svg>` element string, safe to inline (all text escaped)."""
    _check(
        points=points,
        y_max=y_max,
        baseline=baseline,
        remission_max=remission_max,
        response_reduction_percent=response_reduction_percent,
        width=width,
        height=height,
    )
    ordered = sorted(points, key=lambda point: point.taken_on)
    ordered_events = sorted(events, key=lambda event: event.on)

    # Dates run over the scores and events; one day alone is centred in a week.
    dates = [point.taken_on for point in ordered] + [e.on for e in ordered_events]
    start, end = min(dates, default=None), max(dates, default=None)
    only_day = None
    if start is not None and start == end:
        only_day = start
        start, end = start - timedelta(days=3), start + timedelta(days=3)
    # Event labels sit in rows above the plot, so they never cover a score; the
    # rows are laid out first because they decide where the plot starts.
    frame = _Frame(
        width, height, y_max, _LEFT, width - _RIGHT, 0, height - _BOTTOM, start, end
    )
    spans = _event_spans(frame, ordered_events)
    rows = _event_rows(spans)
    used_rows = max((row + 1 for row in rows if row is not None), default=0)
    frame = _Frame(
        width,
        height,
        y_max,
        _LEFT,
        width - _RIGHT,
        _TITLE_HEIGHT + used_rows * _EVENT_ROW_HEIGHT,
        height - _BOTTOM,
        start,
        end,
        only_day,
    )

    chart_id = _chart_id(title, ordered, bands, y_max, ordered_events, baseline)
    summary = _summary(
        title=title,
        ordered=ordered,
        bands=bands,
        events=ordered_events,
        baseline=baseline,
        remission_max=remission_max,
        response_reduction_percent=response_reduction_percent,
    )
    lines = _reference_lines(
        baseline=baseline,
        response_line=response_line,
        remission_max=remission_max,
        response_reduction_percent=response_reduction_percent,
    )
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="trajectory"'
            f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
            f' role="img" aria-labelledby="{chart_id}-title {chart_id}-desc"'
            ' font-family="system-ui, sans-serif" font-size="11">',
            f'<title id="{chart_id}-title">{_text(title)}</title>',
            f'<desc id="{chart_id}-desc">{_text(summary)}</desc>',
            f'<text class="trajectory-heading" x="{_LEFT}" y="18" font-size="13"'
            f' font-weight="600" fill="{_INK}">{_text(_heading(title, width))}</text>',
            *_bands_layer(frame, bands),
            *_axes_layer(frame, bands),
            *_lines_layer(frame, lines, _score_marks(frame, ordered)),
            *_events_layer(frame, ordered_events, spans, rows),
            *_scores_layer(frame, ordered, baseline, bands),
            "</svg>",
        ]
    )
