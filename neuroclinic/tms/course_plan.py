"""A course's planned sessions, for the calendar, and the CPT code each session carries.

`planned_sessions` is the seam to scheduling: it lists every session the course
needs (day, place in the day, earliest start offset), and the scheduling app books
them against the TMS room, unit and technician. Weekdays only (T10: 5 a week);
accelerated days are consecutive weekdays with `min_interval_minutes` between
sessions (T4). The taper follows the acute course, by week (T10 [S]). Missed
sessions are made up at the end of the acute phase [D]: `planned_sessions` is
called again with what is left.

CPT (B2): 90867 for the first session (with mapping and motor threshold), 90869
for a later session with a new threshold determination, 90868 for any other later
session.

Pure module: standard library only.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from neuroclinic.tms.protocols import ProtocolError, ProtocolParameters

MAX_SESSIONS = 80


class Phase(StrEnum):
    ACUTE = "acute"
    TAPER = "taper"


@dataclass(frozen=True)
class PlannedSession:
    number: int  # 1-based, over the whole course
    on: date
    phase: Phase
    slot_in_day: int  # 1-based; always 1 unless accelerated
    earliest_offset_minutes: int  # from the day's first session


def _cycle_minutes(parameters: ProtocolParameters) -> int:
    """Start to start on an accelerated day: the session (rounded up to a minute) and the interval.

    The interval runs from the end of one session to the start of the next, as the
    action enforces it (T4: about 10-minute sessions, 50 minutes apart, so hourly).
    """
    seconds = int(-(-parameters.session_seconds // 1))
    return -(-seconds // 60) + parameters.min_interval_minutes


def _weekdays(start: date, skip: Collection[date]) -> "list[date]":
    out: list[date] = []
    day = start
    while len(out) < MAX_SESSIONS:
        if day.weekday() < 5 and day not in skip:
            out.append(day)
        day += timedelta(days=1)
    return out


def planned_sessions(
    parameters: ProtocolParameters,
    *,
    start: date,
    acute_sessions: int,
    taper: bool = False,
    closed_days: Collection[date] = (),
    missed: Sequence[tuple[date, bool]] = (),
) -> list[PlannedSession]:
    """Every session of the course in order; `missed` is (day, made up) for each missed day."""
    if not 1 <= acute_sessions <= MAX_SESSIONS:
        raise ProtocolError(
            f"A course has 1 to {MAX_SESSIONS} sessions.", field="planned_sessions"
        )
    closed_days = {*closed_days, *(day for day, made_up in missed if made_up)}
    dropped = {day for day, made_up in missed if not made_up}
    per_day = parameters.sessions_per_day
    days = _weekdays(start, closed_days)
    plan: list[PlannedSession] = []
    for index in range(acute_sessions):
        day_index, slot = divmod(index, per_day)
        plan.append(
            PlannedSession(
                number=index + 1,
                on=days[day_index],
                phase=Phase.ACUTE,
                slot_in_day=slot + 1,
                earliest_offset_minutes=slot * _cycle_minutes(parameters),
            )
        )
    if taper and parameters.taper_sessions_by_week:
        last = plan[-1].on
        # The taper starts the Monday after the acute course; sessions spread over the week.
        monday = last + timedelta(days=7 - last.weekday())
        for week, count in enumerate(parameters.taper_sessions_by_week):
            week_start = monday + timedelta(weeks=week)
            spacing = {1: (0,), 2: (0, 3), 3: (0, 2, 4)}.get(count, tuple(range(count)))
            for offset in spacing:
                day = week_start + timedelta(days=offset)
                while day in closed_days or day.weekday() >= 5:
                    day += timedelta(days=1)
                plan.append(PlannedSession(len(plan) + 1, day, Phase.TAPER, 1, 0))
    if dropped:
        kept = [p for p in plan if p.on not in dropped]
        plan = [
            PlannedSession(n, p.on, p.phase, p.slot_in_day, p.earliest_offset_minutes)
            for n, p in enumerate(kept, start=1)
        ]
    return plan


def week_starts(plan: Sequence[PlannedSession], *, start: date) -> list[date]:
    """The first planned session day of each course week (weeks counted from `start`)."""
    firsts: dict[int, date] = {}
    for p in plan:
        firsts.setdefault((p.on - start).days // 7, p.on)
    return [firsts[week] for week in sorted(firsts)]


def course_length(
    parameters: ProtocolParameters, *, acute_sessions: int, taper: bool
) -> int:
    return acute_sessions + (parameters.taper_sessions if taper else 0)


def check_interval(
    parameters: ProtocolParameters, *, minutes_since_last_today: int | None
) -> None:
    """A second session on the same day only on an accelerated protocol, and only after the interval."""
    if minutes_since_last_today is None:
        return
    if not parameters.is_accelerated:
        raise ProtocolError(
            f"{parameters.name} is one session a day: today's is already recorded."
        )
    if minutes_since_last_today < parameters.min_interval_minutes:
        wait = parameters.min_interval_minutes - minutes_since_last_today
        raise ProtocolError(
            f"Sessions are at least {parameters.min_interval_minutes} minutes apart: "
            f"wait {wait} more minute(s)."
        )


class Cpt(StrEnum):
    INITIAL = "90867"
    SUBSEQUENT = "90868"
    REDETERMINATION = "90869"


def cpt_code(*, first_session_of_course: bool, new_threshold: bool) -> Cpt:
    if first_session_of_course:
        return Cpt.INITIAL
    return Cpt.REDETERMINATION if new_threshold else Cpt.SUBSEQUENT
