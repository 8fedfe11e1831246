"""Percent change, response and remission on instrument totals (Source: K5, K21, M7, M9, M17).

Pure tests: no Django, no database.
"""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuroclinic.measures.instruments import UnknownInstrument
from neuroclinic.measures.outcomes import (
    MADRS_REMISSION_MAX,
    PHQ9_REMISSION_MAX,
    QIDS_SR16_REMISSION_MAX,
    RESPONSE_REDUCTION_PERCENT,
    is_remission,
    is_response,
    response_change,
)


@pytest.mark.parametrize(
    ("baseline_total", "current_total", "change"),
    [
        (20, 10, "-50.0"),
        (20, 11, "-45.0"),
        (27, 13, "-51.9"),
        (27, 14, "-48.1"),
        (3, 1, "-66.7"),
        (3, 2, "-33.3"),
        (8, 7, "-12.5"),
        (10, 10, "0.0"),
        (10, 15, "50.0"),
        (10, 0, "-100.0"),
    ],
)
def test_response_change_is_percent_change_rounded_half_up(
    baseline_total: int, current_total: int, change: str
) -> None:
    result = response_change(baseline_total=baseline_total, current_total=current_total)

    assert result == Decimal(change)
    assert str(result) == change


@pytest.mark.parametrize(
    ("baseline_total", "current_total", "responded"),
    [
        (20, 10, True),  # exactly 50%
        (20, 11, False),
        (21, 10, True),  # 52.4%
        (21, 11, False),  # 47.6%
        (27, 13, True),
        (27, 14, False),
        (10, 0, True),
        (10, 12, False),
    ],
)
def test_response_is_at_least_half_off_baseline(
    baseline_total: int, current_total: int, responded: bool
) -> None:
    assert RESPONSE_REDUCTION_PERCENT == 50
    assert (
        is_response(baseline_total=baseline_total, current_total=current_total)
        is responded
    )


@pytest.mark.parametrize(("current_total", "responded"), [(15, True), (16, False)])
def test_response_threshold_is_a_clinic_setting(
    current_total: int, responded: bool
) -> None:
    result = is_response(
        baseline_total=20, current_total=current_total, reduction_percent=25
    )

    assert result is responded


@pytest.mark.parametrize("reduction_percent", [0, -10, 101])
def test_response_threshold_must_be_a_percentage(reduction_percent: int) -> None:
    with pytest.raises(ValueError, match="reduction_percent"):
        is_response(
            baseline_total=20, current_total=5, reduction_percent=reduction_percent
        )


@pytest.mark.parametrize(
    ("baseline_total", "current_total", "error"),
    [
        (0, 0, ValueError),  # no symptoms at baseline: change undefined
        (-1, 0, ValueError),
        (10, -1, ValueError),
        (True, 0, TypeError),
        (10, 2.5, TypeError),
    ],
)
def test_bad_totals_are_refused(
    baseline_total: object, current_total: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        response_change(baseline_total=baseline_total, current_total=current_total)  # type: ignore[arg-type]  # refusal under test
    with pytest.raises(error):
        is_response(baseline_total=baseline_total, current_total=current_total)  # type: ignore[arg-type]  # refusal under test


@pytest.mark.parametrize(
    ("code", "total", "remitted"),
    [
        ("phq9", 0, True),
        ("phq9", 4, True),  # "< 5"
        ("phq9", 5, False),
        ("qids-sr16", 5, True),
        ("qids-sr16", 6, False),
        ("madrs", 10, True),
        ("madrs", 11, False),
        ("hamd17", 7, True),  # M9
        ("hamd17", 8, False),
    ],
)
def test_remission_thresholds(code: str, total: int, remitted: bool) -> None:
    assert (PHQ9_REMISSION_MAX, QIDS_SR16_REMISSION_MAX, MADRS_REMISSION_MAX) == (
        4,
        5,
        10,
    )
    assert is_remission(code, total) is remitted


@pytest.mark.parametrize(("total", "remitted"), [(12, True), (13, False)])
def test_remission_threshold_is_a_clinic_setting(total: int, remitted: bool) -> None:
    # The esketamine programme's MADRS <= 12 (K21).
    assert is_remission("madrs", total, max_total=12) is remitted


def test_remission_is_undefined_for_instruments_without_a_threshold() -> None:
    with pytest.raises(ValueError, match="no remission threshold"):
        is_remission("gad7", 3)

    assert is_remission("gad7", 3, max_total=4) is True


@pytest.mark.parametrize(
    ("code", "total", "message"),
    [("phq9", 28, "0-27"), ("phq9", -1, "negative"), ("madrs", 61, "0-60")],
)
def test_remission_refuses_totals_outside_the_instrument(
    code: str, total: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        is_remission(code, total)


def test_remission_refuses_unknown_instruments() -> None:
    with pytest.raises(UnknownInstrument):
        is_remission("hamd21", 5)


@given(st.integers(1, 80), st.integers(0, 80))
def test_response_agrees_with_the_exact_fraction(baseline: int, current: int) -> None:
    exact_change = Fraction(current - baseline, baseline) * 100

    change = response_change(baseline_total=baseline, current_total=current)
    responded = is_response(baseline_total=baseline, current_total=current)

    assert abs(Fraction(change) - exact_change) <= Fraction(1, 20)
    assert responded is (exact_change <= -50)
