"""Plan phases and the series rules (pure)."""

from datetime import date, timedelta

import pytest

from neuroclinic.treatment.phases import (
    Phase,
    plan_status,
    series_problems,
    spacing_problems,
)

MONDAY = date(2026, 11, 2)


def status(dates: list[date], today: date, ended: bool = False) -> Phase:
    return plan_status(
        induction_target=6,
        induction_dates=dates,
        today=today,
        follow_up_start_days=10,
        follow_up_end_days=14,
        series_window_days=21,
        ended=ended,
    ).phase


@pytest.mark.parametrize(
    ("given", "days_after_last", "phase"),
    [
        (3, 0, Phase.INDUCTION),
        (6, 0, Phase.FOLLOW_UP),
        (6, 14, Phase.FOLLOW_UP),
        (6, 15, Phase.MAINTENANCE),
    ],
)
def test_phase_by_infusions_given_and_days(
    given: int, days_after_last: int, phase: Phase
) -> None:
    dates = [MONDAY + timedelta(days=2 * n) for n in range(given)]
    assert status(dates, dates[-1] + timedelta(days=days_after_last)) is phase


def test_an_ended_plan_is_ended() -> None:
    assert status([], MONDAY, ended=True) is Phase.ENDED


def test_progress_and_the_follow_up_window() -> None:
    dates = [MONDAY + timedelta(days=2 * n) for n in range(6)]
    found = plan_status(
        induction_target=6,
        induction_dates=dates,
        today=MONDAY,
        follow_up_start_days=10,
        follow_up_end_days=14,
        series_window_days=21,
    )
    assert found.progress == "6 of 6"
    assert (found.follow_up_from, found.follow_up_until) == (
        dates[-1] + timedelta(days=10),
        dates[-1] + timedelta(days=14),
    )
    assert found.series_deadline == MONDAY + timedelta(days=21)


def problems(given: list[date], on: date) -> list[tuple[bool, str]]:
    return [
        (p.hard_stop, p.message)
        for p in series_problems(
            infusion_count=6,
            given_dates=given,
            on=on,
            series_window_days=21,
            min_days_between_infusions=1,
            infusions_per_week_max=3,
        )
    ]


def test_two_infusions_on_one_day_are_a_hard_stop() -> None:
    found = problems([MONDAY], MONDAY)
    assert found
    assert found[0][0] is True
    assert "at least 1 day" in found[0][1]


def test_a_seventh_infusion_needs_a_new_order() -> None:
    given = [MONDAY + timedelta(days=2 * n) for n in range(6)]
    assert any(
        hard and "new order" in text
        for hard, text in problems(given, MONDAY + timedelta(days=13))
    )


def test_item9_a_fourth_in_a_week_is_a_hard_stop_unless_overridden() -> None:
    week = [MONDAY, MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)]
    message = "This would be infusion 4 in 7 days; the protocol allows 3 a week."
    assert problems(week, MONDAY + timedelta(days=3)) == [(True, message)]
    overridden = series_problems(
        infusion_count=6,
        given_dates=week,
        on=MONDAY + timedelta(days=3),
        series_window_days=21,
        min_days_between_infusions=1,
        infusions_per_week_max=3,
        spacing_overridden=True,
    )
    assert [(p.hard_stop, p.message) for p in overridden] == [(False, message)]


def test_a_late_series_is_a_warning() -> None:
    late = problems([MONDAY], MONDAY + timedelta(days=25))
    assert late == [(False, "Day 26 of the series: past the protocol's 21-day window.")]


@pytest.mark.parametrize(
    ("given_offsets", "min_days", "week_max", "booster_min", "expected"),
    [
        # (days before `on` of earlier infusions, rules, the rule names refused)
        ([], 1, 3, None, []),
        ([0], 1, 3, None, ["Minimum days between infusions"]),
        ([1], 1, 3, None, []),
        ([1], 2, 3, None, ["Minimum days between infusions"]),
        ([2], 2, 3, None, []),
        ([2, 4], 1, 3, None, []),
        ([1, 3, 5], 1, 3, None, ["Weekly maximum"]),
        ([2, 4, 7], 1, 3, None, []),  # the third is 7 days back: outside the week
        ([1, 3, 6], 1, 3, None, ["Weekly maximum"]),
        ([10], 1, 1, 28, ["Booster interval"]),
        ([28], 1, 1, 28, []),
        (
            [0],
            1,
            1,
            28,
            ["Minimum days between infusions", "Booster interval", "Weekly maximum"],
        ),
        ([-3], 1, 1, None, []),  # a later date is not an earlier infusion
    ],
)
def test_item9_spacing_rules(
    given_offsets: list[int],
    min_days: int,
    week_max: int,
    booster_min: int | None,
    expected: list[str],
) -> None:
    on = MONDAY + timedelta(days=30)
    found = spacing_problems(
        given_dates=[on - timedelta(days=n) for n in given_offsets],
        on=on,
        min_days_between_infusions=min_days,
        infusions_per_week_max=week_max,
        booster_interval_days_min=booster_min,
    )
    assert [p.split(":")[0] for p in found] == expected


def test_item9_an_override_at_check_in_turns_the_minimum_gap_into_a_warning() -> None:
    found = series_problems(
        infusion_count=6,
        given_dates=[MONDAY],
        on=MONDAY,
        series_window_days=21,
        min_days_between_infusions=1,
        infusions_per_week_max=3,
        spacing_overridden=True,
    )
    assert [(p.hard_stop, "at least 1 day" in p.message) for p in found] == [
        (False, True)
    ]
