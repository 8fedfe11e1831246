"""Pure rules of the course follow-up (tms10b): missed days in the plan, course weeks, the
medicines that move the motor threshold, and the TMS triggers of measures' schedule."""

from datetime import UTC, date, datetime, timedelta

import pytest

from neuroclinic.measures import schedules
from neuroclinic.tms import course_plan, protocols
from neuroclinic.tms.threshold_medicines import threshold_classes

MON = date(2026, 1, 5)
TEN_HZ = protocols.RTMS_10HZ


def days(plan: list[course_plan.PlannedSession]) -> list[date]:
    return [p.on for p in plan]


@pytest.mark.parametrize(
    ("missed", "expected_days"),
    [
        ((), [5, 6, 7, 8, 9]),
        # Made up: the rest moves one weekday on; the make-up is at the end (Monday 12th).
        (((6, True),), [5, 7, 8, 9, 12]),
        # Not made up: that day's session is dropped; the course ends on Friday as planned.
        (((6, False),), [5, 7, 8, 9]),
        (((6, True), (8, False)), [5, 7, 9, 12]),
        (((6, True), (7, True)), [5, 8, 9, 12, 13]),
    ],
)
def test_missed_days_in_the_plan(
    missed: tuple[tuple[int, bool], ...], expected_days: list[int]
) -> None:
    plan = course_plan.planned_sessions(
        TEN_HZ,
        start=MON,
        acute_sessions=5,
        missed=[(date(2026, 1, d), made_up) for d, made_up in missed],
    )
    assert days(plan) == [date(2026, 1, d) for d in expected_days]
    assert [p.number for p in plan] == list(range(1, len(expected_days) + 1))


def test_a_made_up_acute_day_moves_the_taper_on() -> None:
    plain = course_plan.planned_sessions(
        TEN_HZ, start=MON, acute_sessions=5, taper=True
    )
    moved = course_plan.planned_sessions(
        TEN_HZ, start=MON, acute_sessions=5, taper=True, missed=[(MON, True)]
    )
    assert len(moved) == len(plain) == 11
    first_taper = next(p for p in moved if p.phase == course_plan.Phase.TAPER)
    # Acute ends Monday the 12th, so the taper starts the Monday after (19th), not the 12th.
    assert first_taper.on == date(2026, 1, 19)
    assert next(p for p in plain if p.phase == "taper").on == date(2026, 1, 12)


def test_a_taper_day_not_made_up_drops_that_taper_session() -> None:
    plan = course_plan.planned_sessions(
        TEN_HZ,
        start=MON,
        acute_sessions=5,
        taper=True,
        missed=[(date(2026, 1, 14), False)],
    )
    taper = [p.on for p in plan if p.phase == "taper"]
    assert taper == [date(2026, 1, d) for d in (12, 16, 19, 22, 26)]


def test_week_starts_are_each_course_weeks_first_session_day() -> None:
    plan = course_plan.planned_sessions(
        TEN_HZ, start=MON, acute_sessions=7, missed=[(date(2026, 1, 12), True)]
    )
    assert course_plan.week_starts(plan, start=MON) == [MON, date(2026, 1, 13)]


def test_a_snapshot_without_the_makeup_limit_keeps_the_default() -> None:
    data = protocols.snapshot(TEN_HZ)
    del data["max_makeup_sessions"]
    assert protocols.from_snapshot(data).max_makeup_sessions == 5
    assert (
        protocols.from_snapshot(protocols.snapshot(protocols.ACCELERATED_ITBS))
    ).max_makeup_sessions == 0


@pytest.mark.parametrize(
    ("name", "classes"),
    [
        ("Lamictal 100 mg", ("anticonvulsant",)),
        ("divalproex ER", ("anticonvulsant",)),
        ("Lorazepam", ("benzodiazepine",)),
        ("clonazepam 0.5 mg", ("benzodiazepine",)),
        ("Quetiapine (Seroquel)", ("antipsychotic",)),
        ("Lithium carbonate", ("lithium",)),
        ("Sertraline", ()),
        ("Bupropion XL", ()),
    ],
)
def test_medicines_that_move_the_threshold(name: str, classes: tuple[str, ...]) -> None:
    assert threshold_classes(name) == classes


def test_tms_triggers_make_weekly_phq9_and_madrs_milestones() -> None:
    start = datetime(2026, 1, 5, 6, tzinfo=UTC)
    first = schedules.due_items(
        schedules.DEFAULT_RULES,
        trigger=schedules.Trigger.TMS_COURSE_START,
        event_at=start,
    )
    assert [(d.instrument_code, d.due_at) for d in first] == [
        ("madrs", start),
        ("madrs", start + timedelta(days=14)),  # the start of week 3
    ]
    week = schedules.due_items(
        schedules.DEFAULT_RULES,
        trigger=schedules.Trigger.TMS_COURSE_WEEK,
        event_at=start,
    )
    assert [(d.instrument_code, d.overdue_at - d.due_at) for d in week] == [
        ("phq9", timedelta(hours=72))
    ]
    end = schedules.due_items(
        schedules.DEFAULT_RULES,
        trigger=schedules.Trigger.TMS_COURSE_END,
        event_at=start,
    )
    assert [d.instrument_code for d in end] == ["madrs"]
