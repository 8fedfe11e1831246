"""The end-of-course summary (pure): counts, missed sessions, PHQ-9 baseline to end."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from neuroclinic.tms.summary import GivenSession, Score, summarize

START = date(2026, 11, 2)  # a Monday
DAYS = [START + timedelta(days=i) for i in range(5)]  # five planned weekdays


def given(
    n: int, *, early: int = 0, effects: tuple[str, ...] = ()
) -> list[GivenSession]:
    return [
        GivenSession(
            on=DAYS[i],
            pulses_delivered=3000,
            completed=i >= early,
            side_effects=effects,
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("n", "today", "missed"),
    [
        (0, START, 0),  # nothing due yet
        (2, DAYS[3], 1),  # three days past, two given
        (5, DAYS[4] + timedelta(days=1), 0),
        (3, DAYS[4] + timedelta(days=10), 2),
    ],
)
def test_missed_counts_past_planned_days_not_given(
    n: int, today: date, missed: int
) -> None:
    result = summarize(planned_days=DAYS, sessions=given(n), phq9=[], today=today)
    assert (result.given, result.missed, result.pulses) == (n, missed, 3000 * n)


def test_recorded_missed_days_count_with_the_unrecorded() -> None:
    # The plan passed in already leaves out the recorded (made-up) day.
    result = summarize(
        planned_days=DAYS,
        sessions=given(2),
        phq9=[],
        today=DAYS[3],
        recorded_missed=1,
    )
    assert result.missed == 2


def test_side_effects_and_early_endings_are_counted() -> None:
    result = summarize(
        planned_days=DAYS,
        sessions=given(3, early=1, effects=("Headache",)),
        phq9=[],
        today=DAYS[4],
    )
    assert result.ended_early == 1
    assert result.side_effects == {"Headache": 3}


@pytest.mark.parametrize(
    ("scores", "baseline", "end", "change", "response", "remission"),
    [
        # baseline before the start, end during the course: response and remission
        ([(-3, 20), (4, 4)], 20, 4, Decimal("-80.0"), True, True),
        # a fall of less than half: neither
        ([(-1, 20), (4, 12)], 20, 12, Decimal("-40.0"), False, False),
        # exactly half is a response; 10 is not remission
        ([(0, 20), (4, 10)], 20, 10, Decimal("-50.0"), True, False),
        # a baseline older than 30 days is ignored: the first during the course stands in
        ([(-40, 25), (1, 18), (4, 9)], 18, 9, Decimal("-50.0"), True, False),
        # only a baseline: no end, no verdict
        ([(-2, 15)], 15, None, None, None, None),
        # a score long after the course is not its end
        ([(-2, 15), (30, 3)], 15, None, None, None, None),
        # baseline 0: remission can be judged, a percent change cannot
        ([(-2, 0), (3, 2)], 0, 2, None, None, True),
    ],
)
def test_phq9_baseline_to_end(
    scores: list[tuple[int, int]],
    baseline: int | None,
    end: int | None,
    change: Decimal | None,
    response: bool | None,
    remission: bool | None,
) -> None:
    result = summarize(
        planned_days=DAYS,
        sessions=given(5),
        phq9=[Score(on=START + timedelta(days=d), total=t) for d, t in scores],
        today=DAYS[4] + timedelta(days=1),
    )
    assert (result.baseline.total if result.baseline else None) == baseline
    assert (result.end.total if result.end else None) == end
    assert (result.change_percent, result.response, result.remission) == (
        change,
        response,
        remission,
    )


def test_a_course_without_planned_sessions_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one planned session"):
        summarize(planned_days=[], sessions=[], phq9=[], today=START)
