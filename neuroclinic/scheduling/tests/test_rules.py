"""The booking rules against the published series (K4, K5) and the clinic's ratios."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from neuroclinic.scheduling import rules
from neuroclinic.scheduling.rules import (
    INDUCTION_SPACING,
    Booking,
    Calendar,
    Interval,
    check_series,
)

MON = date(2026, 3, 2)  # a Monday


def days(*offsets: int) -> list[date]:
    return [MON + timedelta(days=o) for o in offsets]


@pytest.mark.parametrize(
    ("offsets", "codes"),
    [
        # K5: six infusions, three a week, over 12 days (Mon/Wed/Fri twice).
        ((0, 2, 4, 7, 9, 11), set()),
        # K4: twice a week for three weeks.
        ((0, 3, 7, 10, 14, 17), set()),
        # Three then two then one: the last week needs only what is left.
        ((0, 2, 4, 7, 9, 14), set()),
        # Consecutive days are allowed by the default spacing (one day apart).
        ((0, 1, 2, 7, 8, 9), set()),
        ((0, 0, 2, 7, 9, 11), {"series_spacing"}),
        ((0, 1, 2, 3, 7, 9), {"series_week_max"}),
        ((0, 7, 9, 11, 14, 16), {"series_week_min"}),
        ((0, 3, 7, 10, 14, 21), {"series_window", "series_week_min"}),
        ((0, 2, 4, 7, 9), {"series_count"}),
    ],
)
def test_series_rule(offsets: tuple[int, ...], codes: set[str]) -> None:
    found = {r.code for r in check_series(days(*offsets), INDUCTION_SPACING)}
    assert found == codes


def test_every_refusal_says_why() -> None:
    for refusal in check_series(days(0, 0, 1, 2, 3, 21), INDUCTION_SPACING):
        assert refusal.message
        assert refusal.field == "dates"


@pytest.mark.parametrize(
    ("day", "at", "zone", "expected"),
    [
        (
            date(2026, 3, 8),
            time(1, 30),
            "America/New_York",
            datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
        ),
        (
            date(2026, 3, 8),
            time(3, 30),
            "America/New_York",
            datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
        ),
        # Autumn: 01:30 happens twice; the first (still daylight time) is taken.
        (
            date(2026, 11, 1),
            time(1, 30),
            "America/New_York",
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        ),
        (
            date(2026, 7, 1),
            time(9, 0),
            "America/Chicago",
            datetime(2026, 7, 1, 14, 0, tzinfo=UTC),
        ),
    ],
)
def test_local_to_utc(day: date, at: time, zone: str, expected: datetime) -> None:
    assert rules.local_to_utc(day, at, zone) == expected


def test_spring_forward_gap_is_refused_not_shifted() -> None:
    with pytest.raises(rules.LocalTimeError, match="does not exist"):
        rules.local_to_utc(date(2026, 3, 8), time(2, 30), "America/New_York")


def at(hour: float) -> datetime:
    return datetime(2026, 3, 2, tzinfo=UTC) + timedelta(hours=hour)


def span(start: float, end: float) -> Interval:
    return Interval(at(start), at(end))


def infusion(
    start: float,
    *,
    patient: int = 1,
    room: int | None = 1,
    staff: int | None = 10,
    devices: frozenset[int] = frozenset({100}),
    ref: str = "",
) -> Booking:
    return Booking(
        visit=span(start, start + 1),
        held=span(start, start + 1.5),
        patient_id=patient,
        room_id=room,
        staff_id=staff,
        device_ids=devices,
        is_infusion=True,
        ref=ref,
    )


OPEN = Calendar(
    opening_hours=[span(8, 18)],
    shifts={10: [span(8, 13), span(13, 18)], 11: [span(8, 18)]},
    prescriber_shifts=[span(8, 18)],
)


def calendar(*bookings: Booking, **changes: object) -> Calendar:
    fields = dict(OPEN.__dict__) | {"bookings": list(bookings)} | changes
    return Calendar(**fields)


CONFLICT_CASES = [
    (infusion(9), calendar(), set()),
    (infusion(7.5), calendar(), {"outside_hours", "staff_off", "no_prescriber"}),
    (infusion(17.5), calendar(), {"outside_hours", "staff_off", "no_prescriber"}),
    # Shifts that meet end to start cover a visit across them.
    (infusion(12.5), calendar(), set()),
    (
        infusion(9),
        calendar(infusion(9, patient=2, staff=11, devices=frozenset())),
        {"room_taken"},
    ),
    # The turnover holds the room: 10:00 is inside the 09:00 visit's 30 minutes.
    (
        infusion(10),
        calendar(infusion(9, patient=2, staff=11, devices=frozenset())),
        {"room_taken"},
    ),
    (
        infusion(10.5),
        calendar(infusion(9, patient=2, staff=11, devices=frozenset())),
        set(),
    ),
    (
        infusion(9),
        calendar(infusion(9, patient=2, room=2, staff=11)),
        {"device_taken"},
    ),
    # One nurse, two running infusions: allowed (ratio 2); a third: refused.
    (
        infusion(9, room=3, devices=frozenset()),
        calendar(infusion(9, patient=2, room=2, devices=frozenset())),
        set(),
    ),
    (
        infusion(9, room=3, devices=frozenset()),
        calendar(
            infusion(9, patient=2, room=2, devices=frozenset()),
            infusion(9.5, patient=4, room=4, devices=frozenset()),
        ),
        {"nurse_ratio"},
    ),
    (
        infusion(9, room=3, devices=frozenset()),
        calendar(
            infusion(9, patient=2, room=2, devices=frozenset()), nurse_max_running=1
        ),
        {"nurse_ratio"},
    ),
    (infusion(9, staff=12), calendar(), {"staff_off"}),
    (infusion(9), calendar(prescriber_shifts=[span(8, 9.5)]), {"no_prescriber"}),
    (infusion(9), calendar(prescriber_shifts=[], prescriber_required=False), set()),
    (infusion(9), calendar(room_closures={1: [span(9.2, 9.4)]}), {"room_closed"}),
    (
        infusion(9),
        calendar(device_closures={100: [span(0, 24)]}),
        {"device_closed"},
    ),
    (infusion(9), calendar(location_closures=[span(0, 24)]), {"location_closed"}),
    (
        infusion(9, room=5, devices=frozenset(), staff=11),
        calendar(infusion(9.5, room=6, devices=frozenset())),
        {"patient_busy"},
    ),
    # A move does not collide with the appointment it moves.
    (infusion(9, ref="a"), calendar(infusion(9, ref="a")), set()),
]


@pytest.mark.parametrize(("candidate", "cal", "codes"), CONFLICT_CASES)
def test_conflicts(candidate: Booking, cal: Calendar, codes: set[str]) -> None:
    assert {r.code for r in rules.conflicts(candidate, cal)} == codes


@pytest.mark.parametrize(("candidate", "cal", "codes"), CONFLICT_CASES)
def test_a_calendar_narrowed_around_the_visit_answers_the_same(
    candidate: Booking, cal: Calendar, codes: set[str]
) -> None:
    near = cal.around(Interval(candidate.visit.start, candidate.held.end))
    assert {r.code for r in rules.conflicts(candidate, near)} == codes


def test_narrowing_drops_what_lies_outside() -> None:
    cal = calendar(
        infusion(9), infusion(15, patient=2), location_closures=[span(16, 17)]
    )
    near = cal.around(span(8, 11))
    assert [b.patient_id for b in near.bookings] == [1]
    assert near.location_closures == []
    assert near.shifts[10] == [span(8, 13)]


def test_a_non_infusion_visit_takes_the_staff_member_whole() -> None:
    consult = Booking(visit=span(9, 10), held=span(9, 10), patient_id=3, staff_id=10)
    found = rules.conflicts(consult, calendar(infusion(9, patient=2)))
    assert {r.code for r in found} == {"staff_busy"}


def test_past_is_refused() -> None:
    found = rules.conflicts(infusion(9), calendar(), now=at(10))
    assert [r.code for r in found] == ["past"]


@pytest.mark.parametrize(
    ("intervals", "peak"),
    [
        ([], 0),
        ([span(1, 2), span(2, 3)], 1),
        ([span(1, 3), span(2, 4), span(2.5, 5)], 3),
    ],
)
def test_max_concurrent(intervals: list[Interval], peak: int) -> None:
    assert rules.max_concurrent(intervals) == peak


def test_booster_window_is_four_to_six_weeks() -> None:
    assert rules.booster_window(MON, min_days=28, max_days=42) == (
        date(2026, 3, 30),
        date(2026, 4, 13),
    )


# The booster protocol's interval (K22 [P]: 4-6 weeks), as bookings see it. The last
# infusion is MON; the default booster protocol: at least 28 days, at most 42.
@pytest.mark.parametrize(
    ("today_offset", "on_offset", "next_offset", "codes"),
    [
        (1, 28, None, set()),  # the first day of the interval
        (1, 42, None, set()),  # its last day
        (1, 27, None, {"booster_too_soon"}),  # a day too soon
        (1, 0, None, {"booster_too_soon"}),  # the day of the last infusion
        (1, 43, None, {"booster_too_late"}),  # a day past the interval
        # Near the end of the interval a week from today is still allowed ...
        (40, 47, None, set()),
        (40, 48, None, {"booster_too_late"}),
        # ... and once it has passed, a late booster is booked within the week.
        (60, 61, None, set()),
        (60, 67, None, set()),
        (60, 68, None, {"booster_too_late"}),
        # A booster booked later keeps its own interval after this one.
        (1, 30, 58, set()),
        (1, 30, 57, {"booster_before_next"}),
        (1, 20, 40, {"booster_too_soon", "booster_before_next"}),
    ],
)
def test_a_booster_falls_inside_the_protocol_s_interval(
    today_offset: int, on_offset: int, next_offset: int | None, codes: set[str]
) -> None:
    today = MON + timedelta(days=today_offset)
    window = rules.booster_window_on(MON, today=today, min_days=28, max_days=42)
    refusals = rules.booster_refusals(
        MON + timedelta(days=on_offset),
        window,
        today=today,
        next_booster=MON + timedelta(days=next_offset) if next_offset else None,
        min_days=28,
    )
    assert {r.code for r in refusals} == codes
    assert all(r.field == "starts_at" for r in refusals)


def test_each_booster_refusal_names_the_dates_allowed() -> None:
    today = MON + timedelta(days=1)
    window = rules.booster_window_on(MON, today=today, min_days=28, max_days=42)
    (soon,) = rules.booster_refusals(MON + timedelta(days=10), window, today=today)
    assert "2026-03-02" in soon.message  # the last infusion
    assert "earliest allowed date is 2026-03-30" in soon.message
    (late,) = rules.booster_refusals(MON + timedelta(days=50), window, today=today)
    assert "earliest allowed date is 2026-03-30" in late.message
    assert "latest 2026-04-13" in late.message
    # Late already: the earliest allowed is today, not a day gone by.
    later = MON + timedelta(days=60)
    window = rules.booster_window_on(MON, today=later, min_days=28, max_days=42)
    (overdue,) = rules.booster_refusals(MON + timedelta(days=90), window, today=later)
    assert f"earliest allowed date is {later.isoformat()}" in overdue.message
    (before,) = rules.booster_refusals(
        MON + timedelta(days=30),
        None,
        today=today,
        next_booster=MON + timedelta(days=40),
        min_days=28,
    )
    assert "on or before 2026-03-14" in before.message


def test_no_infusion_yet_means_no_booster_interval() -> None:
    assert rules.booster_refusals(MON, None, today=MON) == []


@pytest.mark.parametrize(("low", "high"), [(-1, 10), (30, 20)])
def test_a_booster_interval_must_make_sense(low: int, high: int) -> None:
    with pytest.raises(ValueError, match="min_days"):
        rules.booster_window_on(MON, today=MON, min_days=low, max_days=high)
