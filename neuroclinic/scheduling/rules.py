"""Booking rules: the induction series' spacing, and what makes a booking collide.

Sources (ids expand in docs/sources.md):

- The induction series: six infusions (K5 [V]: up to 6 over 12 days), two or three
  a week (K4 [V]: twice weekly worked as well as thrice; K5 [V]: three a week),
  finished within the protocol's window (21 days by default; clinics commonly run
  the series in about two weeks, K22 [P]). The numbers are the protocol's settings
  (treatment.defaults), passed in here as `SeriesSpacing`.
- A prescriber on site while any infusion runs, and a nurse watching no more than
  a set number of running infusions, are the clinic's staffing settings [D]; the
  label asks for monitoring by people trained for it and an escort home (K11 [V]).
- Weeks of a series count from its first infusion (days 0-6 are week one).

Every check returns `Refusal`s, each with a stable code, the field at fault and a
message a person can act on; an empty list means the booking may go ahead.

Local times: a wall-clock time that does not exist in the location's zone (the
hour skipped when clocks spring forward) is refused, never shifted; a time that
happens twice (the hour repeated in autumn) takes its first occurrence.

Pure module: standard library only.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Refusal:
    code: str
    field: str
    message: str


@dataclass(frozen=True)
class SeriesSpacing:
    count: int  # infusions in the series
    per_week_min: int
    per_week_max: int
    window_days: int  # the last infusion falls before first + window_days
    min_days_between: int  # at least this many calendar days apart (never the same day)

    @property
    def gap_days(self) -> int:
        return max(1, self.min_days_between)


INDUCTION_SPACING = SeriesSpacing(
    count=6, per_week_min=2, per_week_max=3, window_days=21, min_days_between=1
)


def week_of(first: date, day: date) -> int:
    return (day - first).days // 7


def check_series(dates: Sequence[date], spacing: SeriesSpacing) -> list[Refusal]:
    """Whether these infusion dates make a valid series (any order; all refusals)."""
    refusals: list[Refusal] = []
    days = sorted(dates)
    if len(days) != spacing.count:
        refusals.append(
            Refusal(
                "series_count",
                "dates",
                f"The series has {spacing.count} infusions; {len(days)} were given.",
            )
        )
    if not days:
        return refusals
    for earlier, later in pairwise(days):
        if (later - earlier).days < spacing.gap_days:
            refusals.append(
                Refusal(
                    "series_spacing",
                    "dates",
                    f"{earlier:%a %d %b} and {later:%a %d %b} are closer than "
                    f"{spacing.gap_days} day{'s' if spacing.gap_days != 1 else ''} apart.",
                )
            )
    first, last = days[0], days[-1]
    if (last - first).days >= spacing.window_days:
        refusals.append(
            Refusal(
                "series_window",
                "dates",
                f"The series must finish within {spacing.window_days} days of the first "
                f"infusion ({first:%a %d %b}); the last is on {last:%a %d %b}.",
            )
        )
    per_week: dict[int, int] = {}
    for day in days:
        per_week[week_of(first, day)] = per_week.get(week_of(first, day), 0) + 1
    done_before = 0
    for week in range(week_of(first, last) + 1):
        n = per_week.get(week, 0)
        if n > spacing.per_week_max:
            refusals.append(
                Refusal(
                    "series_week_max",
                    "dates",
                    f"Week {week + 1} has {n} infusions; at most {spacing.per_week_max} a week.",
                )
            )
        needed = min(spacing.per_week_min, spacing.count - done_before)
        if n < needed:
            refusals.append(
                Refusal(
                    "series_week_min",
                    "dates",
                    f"Week {week + 1} has {n} infusion{'s' if n != 1 else ''}; "
                    f"at least {spacing.per_week_min} a week until the series is done.",
                )
            )
        done_before += n
    return refusals


# Local wall-clock time ----------------------------------------------------------


class LocalTimeError(ValueError):
    pass


def local_to_utc(day: date, at: time, zone: str) -> datetime:
    """The UTC instant of a wall-clock time at a location; refuses a time that does not exist."""
    tz = ZoneInfo(zone)
    local = datetime.combine(day, at, tzinfo=tz)  # fold=0: the first of a repeated hour
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise LocalTimeError(
            f"{at:%H:%M} does not exist on {day:%a %d %b %Y} in {zone}: the clocks "
            "change that night. Choose another time."
        )
    return instant


# Conflicts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, other: "Interval") -> bool:
        return self.start < other.end and other.start < self.end

    def within(self, other: "Interval") -> bool:
        return other.start <= self.start and self.end <= other.end


@dataclass(frozen=True)
class Booking:
    """A booking as the rules see it: plain ids and UTC times.

    `visit` is the time the patient is there; `held` adds the turnover, during
    which the room and devices stay taken. Staff are held for the visit only.
    """

    visit: Interval
    held: Interval
    patient_id: int
    room_id: int | None = None
    staff_id: int | None = None
    device_ids: frozenset[int] = frozenset()
    is_infusion: bool = False
    ref: str = ""  # the appointment it is (so a move ignores itself)


@dataclass(frozen=True)
class Calendar:
    """What is already true at a location around the booking being checked."""

    bookings: Sequence[Booking] = ()
    opening_hours: Sequence[Interval] = ()  # for the day(s) concerned, in UTC
    shifts: dict[int, list[Interval]] = field(
        default_factory=dict
    )  # staff id -> shifts
    prescriber_shifts: Sequence[Interval] = ()
    room_closures: dict[int, list[Interval]] = field(default_factory=dict)
    device_closures: dict[int, list[Interval]] = field(default_factory=dict)
    location_closures: Sequence[Interval] = ()
    # Infusions opened from the chart without an appointment still hold their room.
    rooms_in_use: dict[int, list[Interval]] = field(default_factory=dict)
    nurse_max_running: int = 2
    prescriber_required: bool = True

    def around(self, span: "Interval") -> "Calendar":
        """The same calendar holding only what overlaps `span`: checks of a booking inside
        `span` answer the same against it, faster (the planner narrows to one day)."""

        def near(pieces: Iterable[Interval]) -> list[Interval]:
            return [p for p in pieces if p.overlaps(span)]

        return Calendar(
            bookings=[
                b
                for b in self.bookings
                if b.held.overlaps(span) or b.visit.overlaps(span)
            ],
            opening_hours=near(self.opening_hours),
            shifts={k: near(v) for k, v in self.shifts.items()},
            prescriber_shifts=near(self.prescriber_shifts),
            room_closures={k: near(v) for k, v in self.room_closures.items()},
            device_closures={k: near(v) for k, v in self.device_closures.items()},
            location_closures=near(self.location_closures),
            rooms_in_use={k: near(v) for k, v in self.rooms_in_use.items()},
            nurse_max_running=self.nurse_max_running,
            prescriber_required=self.prescriber_required,
        )


def _covered(span: Interval, pieces: Iterable[Interval]) -> bool:
    """Whether `span` lies inside the union of `pieces` (shifts may meet end to start)."""
    cursor = span.start
    for piece in sorted(pieces, key=lambda p: p.start):
        if piece.start > cursor:
            break
        cursor = max(cursor, piece.end)
        if cursor >= span.end:
            return True
    return cursor >= span.end


def max_concurrent(intervals: Iterable[Interval]) -> int:
    points: list[tuple[datetime, int]] = []
    for i in intervals:
        points.append((i.start, 1))
        points.append((i.end, -1))
    points.sort(key=lambda p: (p[0], p[1]))  # an end at t frees before a start at t
    running = best = 0
    for _, delta in points:
        running += delta
        best = max(best, running)
    return best


def conflicts(
    candidate: Booking, calendar: Calendar, *, now: datetime | None = None
) -> list[Refusal]:
    """Every reason this booking cannot go ahead (empty: it can)."""
    refusals: list[Refusal] = []
    if now is not None and candidate.visit.start < now:
        refusals.append(Refusal("past", "starts_at", "That time has already passed."))
    if not _covered(candidate.visit, calendar.opening_hours):
        refusals.append(
            Refusal(
                "outside_hours",
                "starts_at",
                "The visit falls outside the location's opening hours.",
            )
        )
    if any(candidate.visit.overlaps(c) for c in calendar.location_closures):
        refusals.append(
            Refusal("location_closed", "starts_at", "The location is closed then.")
        )
    others = [
        b for b in calendar.bookings if not (candidate.ref and b.ref == candidate.ref)
    ]
    if candidate.room_id is not None:
        if any(
            candidate.held.overlaps(c)
            for c in calendar.room_closures.get(candidate.room_id, [])
        ):
            refusals.append(Refusal("room_closed", "room", "The room is closed then."))
        if any(
            candidate.held.overlaps(c)
            for c in calendar.rooms_in_use.get(candidate.room_id, [])
        ):
            refusals.append(
                Refusal(
                    "room_in_use",
                    "room",
                    "An infusion checked in without an appointment is in the room then.",
                )
            )
        if any(
            b.room_id == candidate.room_id and candidate.held.overlaps(b.held)
            for b in others
        ):
            refusals.append(
                Refusal(
                    "room_taken", "room", "The room is booked for another visit then."
                )
            )
    for device_id in sorted(candidate.device_ids):
        if any(
            candidate.held.overlaps(c)
            for c in calendar.device_closures.get(device_id, [])
        ):
            refusals.append(
                Refusal("device_closed", "devices", "A device is out of service then.")
            )
        if any(
            device_id in b.device_ids and candidate.held.overlaps(b.held)
            for b in others
        ):
            refusals.append(
                Refusal(
                    "device_taken",
                    "devices",
                    "A device is in use for another visit then.",
                )
            )
    if candidate.staff_id is not None:
        if not _covered(candidate.visit, calendar.shifts.get(candidate.staff_id, [])):
            refusals.append(
                Refusal("staff_off", "staff", "The staff member is not on shift then.")
            )
        theirs = [
            b
            for b in others
            if b.staff_id == candidate.staff_id and candidate.visit.overlaps(b.visit)
        ]
        if candidate.is_infusion and all(b.is_infusion for b in theirs):
            # A nurse may watch several running infusions, up to the clinic's ratio.
            peak = max_concurrent([b.visit for b in theirs] + [candidate.visit])
            if peak > calendar.nurse_max_running:
                refusals.append(
                    Refusal(
                        "nurse_ratio",
                        "staff",
                        f"The nurse would watch {peak} infusions at once; the clinic "
                        f"allows {calendar.nurse_max_running}.",
                    )
                )
        elif theirs:
            refusals.append(
                Refusal(
                    "staff_busy", "staff", "The staff member has another visit then."
                )
            )
    if (
        candidate.is_infusion
        and calendar.prescriber_required
        and not _covered(candidate.visit, calendar.prescriber_shifts)
    ):
        refusals.append(
            Refusal(
                "no_prescriber",
                "starts_at",
                "No prescriber is on site for the whole infusion.",
            )
        )
    if any(
        b.patient_id == candidate.patient_id and candidate.visit.overlaps(b.visit)
        for b in others
    ):
        refusals.append(
            Refusal("patient_busy", "patient", "The patient has another visit then.")
        )
    return refusals


def booster_window(
    last_infusion: date, *, min_days: int, max_days: int
) -> tuple[date, date]:
    """The dates a booster may be booked on after the last infusion (K22 [P]: 4-6 weeks)."""
    return last_infusion + timedelta(days=min_days), last_infusion + timedelta(
        days=max_days
    )


# Boosters ------------------------------------------------------------------------

# When the booster interval's last day is near or already past (the patient comes back
# late), a booster may still be booked up to this many days ahead rather than refused:
# a late booster is booked soon. The portal's picker offered "the next seven days" then,
# and keeps doing so through this rule [D].
BOOSTER_LATE_BOOKING_DAYS = 7


@dataclass(frozen=True)
class BoosterWindow:
    """The days a booster may fall on: from `min_days` after the last infusion to
    `max_days` after it, or a week from `today` when that is later."""

    last_infusion: date
    earliest: date
    latest: date
    min_days: int
    max_days: int


def booster_window_on(
    last_infusion: date,
    *,
    today: date,
    min_days: int,
    max_days: int,
    late_days: int = BOOSTER_LATE_BOOKING_DAYS,
) -> BoosterWindow:
    """The booster protocol's interval after `last_infusion` (K22 [P]: often every 4-6
    weeks; K3 [V]: a little before the effect wears off), as seen on `today`."""
    if min_days < 0 or max_days < min_days:
        raise ValueError("need 0 <= min_days <= max_days")
    earliest, latest = booster_window(
        last_infusion, min_days=min_days, max_days=max_days
    )
    return BoosterWindow(
        last_infusion=last_infusion,
        earliest=earliest,
        latest=max(latest, today + timedelta(days=late_days)),
        min_days=min_days,
        max_days=max_days,
    )


def booster_refusals(
    on: date,
    window: BoosterWindow | None,
    *,
    today: date,
    next_booster: date | None = None,
    min_days: int = 0,
) -> list[Refusal]:
    """Why a booster cannot fall on `on` (empty: it can).

    `window` is the interval after the last infusion on or before `on` (None: the patient
    has had no infusion, so no interval applies); `next_booster` is the patient's next
    booster already booked after `on`, which must stay `min_days` after this one. Every
    message names the date that would be allowed."""
    refusals: list[Refusal] = []
    if window is not None and on < window.earliest:
        refusals.append(
            Refusal(
                "booster_too_soon",
                "starts_at",
                f"Too soon for a booster: the last infusion was on "
                f"{window.last_infusion.isoformat()} and the booster protocol asks for at "
                f"least {window.min_days} days after it. The earliest allowed date is "
                f"{window.earliest.isoformat()}.",
            )
        )
    if window is not None and on > window.latest:
        first = max(window.earliest, today)
        refusals.append(
            Refusal(
                "booster_too_late",
                "starts_at",
                f"Later than the booster protocol allows: the last infusion was on "
                f"{window.last_infusion.isoformat()} and the interval ends "
                f"{window.max_days} days after it. The earliest allowed date is "
                f"{first.isoformat()} and the latest {window.latest.isoformat()}.",
            )
        )
    if next_booster is not None and (next_booster - on).days < min_days:
        refusals.append(
            Refusal(
                "booster_before_next",
                "starts_at",
                f"Another booster is booked on {next_booster.isoformat()}: boosters are "
                f"at least {min_days} days apart, so this one must be on or before "
                f"{(next_booster - timedelta(days=min_days)).isoformat()}.",
            )
        )
    return refusals
