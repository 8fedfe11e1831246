"""The series planner without a database: first fit, CP-SAT over days, the time budget."""

from datetime import date, timedelta

import pytest

from neuroclinic.scheduling import planner
from neuroclinic.scheduling.rules import INDUCTION_SPACING, check_series

MONDAY = date(2026, 3, 2)


def options(
    free: list[int], preferred: dict[int, str] | None = None
) -> dict[date, list[planner.Option]]:
    """Days (offsets from MONDAY) with a 09:00 and an 11:00 time; `preferred` marks one."""
    preferred = preferred or {}
    out = {}
    for n in free:
        day = MONDAY + timedelta(days=n)
        out[day] = [
            planner.Option(f"{n}-{label}", label, preferred.get(n) == label)
            for label in ("09:00", "11:00")
        ]
    return out


@pytest.mark.parametrize(
    ("free", "expected"),
    [
        (list(range(21)), [0, 1, 2, 7, 8, 9]),
        ([0, 2, 4, 7, 9, 11, 14], [0, 2, 4, 7, 9, 11]),
        # Only one free day in week two: the weekly minimum fails, no first fit.
        ([0, 1, 2, 7, 14, 15, 16], None),
        ([1, 2, 3, 7, 8, 9], None),  # the start day itself is not free
    ],
)
def test_first_fit(free: list[int], expected: list[int] | None) -> None:
    found = planner.greedy_days(MONDAY, options(free), INDUCTION_SPACING)
    if expected is None:
        assert found is None
    else:
        assert found == [MONDAY + timedelta(days=n) for n in expected]
        assert not check_series(found, INDUCTION_SPACING)


def test_the_solver_finishes_earliest_then_takes_preferred_times() -> None:
    plan, notes = planner.plan_series(
        options(list(range(21)), preferred={0: "11:00", 8: "11:00"}),
        INDUCTION_SPACING,
        earliest=MONDAY,
        latest_start=MONDAY,
    )
    assert plan is not None
    assert plan.optimal
    assert notes == []
    # Day 9 is the earliest finish (three a week at most); among such series, any.
    offsets = [(c.day - MONDAY).days for c in plan.chosen]
    assert offsets[-1] == 9
    assert 8 in offsets
    assert not check_series([c.day for c in plan.chosen], INDUCTION_SPACING)
    labels = {(c.day - MONDAY).days: c.option.label for c in plan.chosen}
    assert labels[0] == "11:00"
    assert labels[8] == "11:00"
    assert labels[9] == "09:00"


def test_the_solver_beats_the_first_fit_on_preferences_at_equal_finish() -> None:
    # Days 0-2 and 7-10 free; first fit takes 7, 8, 9; only day 10 is preferred, which would
    # finish a day later: finishing earlier wins (one day beats any number of preferences).
    plan, _ = planner.plan_series(
        options([0, 1, 2, 7, 8, 9, 10], preferred={10: "09:00"}),
        INDUCTION_SPACING,
        earliest=MONDAY,
        latest_start=MONDAY,
    )
    assert plan is not None
    assert [(c.day - MONDAY).days for c in plan.chosen][-1] == 9


def test_a_spent_time_budget_still_answers_with_a_valid_series() -> None:
    plan, _ = planner.plan_series(
        options(list(range(21))),
        INDUCTION_SPACING,
        earliest=MONDAY,
        latest_start=MONDAY + timedelta(days=14),
        time_limit_s=0,
    )
    assert plan is not None
    assert not check_series([c.day for c in plan.chosen], INDUCTION_SPACING)


def test_a_later_start_is_offered_with_the_reason() -> None:
    plan, notes = planner.plan_series(
        options([3, 4, 5, 10, 11, 12]),
        INDUCTION_SPACING,
        earliest=MONDAY,
        latest_start=MONDAY + timedelta(days=7),
    )
    assert plan is not None
    assert plan.start == MONDAY + timedelta(days=3)
    assert "closest start is Thu 05 Mar" in notes[0]
