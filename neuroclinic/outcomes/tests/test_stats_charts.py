"""Confidence intervals, Kaplan-Meier through lifelines, and CSP-safe SVG."""

from decimal import Decimal

import pytest

from neuroclinic.outcomes.charts import rate_bars, survival_steps
from neuroclinic.outcomes.stats import Rate, kaplan_meier


@pytest.mark.parametrize(
    ("count", "total", "percent", "low", "high"),
    [
        # Wilson 95% score intervals (z = 1.96)
        (81, 263, "30.8", "25.5", "36.6"),
        (0, 10, "0.0", "0.0", "27.8"),
        (10, 10, "100.0", "72.2", "100.0"),
    ],
)
def test_wilson_interval(
    count: int, total: int, percent: str, low: str, high: str
) -> None:
    rate = Rate("x", count, total)
    assert rate.percent == Decimal(percent)
    assert rate.interval == (Decimal(low), Decimal(high))


def test_empty_rate_has_no_percent() -> None:
    assert Rate("x", 0, 0).percent is None
    assert Rate("x", 0, 0).interval is None


def test_kaplan_meier_matches_the_textbook_estimate() -> None:
    # Five patients: events at days 2, 4 and 5; censored at days 3 and 6.
    curve = kaplan_meier("t", [2, 3, 4, 5, 6], [True, False, True, True, False])
    survival = dict(curve.points)
    assert survival[2.0] == pytest.approx(0.8)
    assert survival[4.0] == pytest.approx(0.8 * 2 / 3)
    assert survival[5.0] == pytest.approx(0.8 * 2 / 3 * 1 / 2)
    assert curve.events == 3
    assert curve.median_days == 5.0


def test_kaplan_meier_without_data() -> None:
    assert kaplan_meier("t", [], []).points == ()
    with pytest.raises(ValueError, match="length"):
        kaplan_meier("t", [1], [])


def test_svg_is_csp_safe_and_escaped() -> None:
    svg = rate_bars(
        "<Response> & remission", [Rate("<b>", 3, 10), Rate("w4", 0, 0)], "c1"
    )
    svg += survival_steps("KM <x>", kaplan_meier("k", [2, 3], [True, False]), "c2")
    assert "<script" not in svg
    assert "style=" not in svg
    assert "href" not in svg
    assert "&lt;Response&gt; &amp; remission" in svg
    assert "&lt;b&gt;" in svg
