"""When questionnaires fall due: measurement-based care schedules.

Defaults (clinic-configurable, changed by the medical director):
- PHQ-9 and GAD-7 at intake (the baseline for response and remission,
  Source: K5, M17);
- PHQ-9 before each infusion (the treatment-day safety check on item 9,
  Source: C4, M2) and 24 hours after it (K5: response shows within a day);
- PHQ-9 weekly for 8 weeks after the induction series (the 10-14 day window
  and beyond, when relapse shows first: median 18 days in Murrough 2013, K5);
- PHQ-9 before each booster.
Source of the cadence: issue #3; K4, K5, K22 (the series) and K5, M17 (outcomes).

During a TMS course (the tms app fires these triggers when a course is ordered or
its plan changes; Source: domain facts T1, T10 and the TMS session record's
"PHQ-9 weekly, HAM-D/MADRS at milestones"):
- PHQ-9 on the first session day of each week of the course (the first is the baseline);
- MADRS (clinician-rated: on the clinic's worklist, never sent to the patient) at
  the course's first session day, two weeks later (the start of week 3), and on
  its last session day.

Pure module: standard library only.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Trigger(StrEnum):
    INTAKE = "intake"
    BEFORE_INFUSION = "before_infusion"
    AFTER_INFUSION = "after_infusion"
    AFTER_INDUCTION_WEEKLY = "after_induction_weekly"
    BEFORE_BOOSTER = "before_booster"
    TMS_COURSE_START = "tms_course_start"
    TMS_COURSE_WEEK = "tms_course_week"
    TMS_COURSE_END = "tms_course_end"


@dataclass(frozen=True)
class Rule:
    instrument_code: str
    trigger: Trigger
    offset_hours: int = 0  # after the event; negative means before it
    repeat_count: int = 1
    repeat_every_days: int = 0
    window_hours: int = 24  # from falling due to overdue


@dataclass(frozen=True)
class Due:
    instrument_code: str
    trigger: Trigger
    due_at: datetime
    overdue_at: datetime


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("phq9", Trigger.INTAKE, window_hours=72),
    Rule("gad7", Trigger.INTAKE, window_hours=72),
    Rule("phq9", Trigger.BEFORE_INFUSION, offset_hours=-24, window_hours=24),
    Rule("phq9", Trigger.AFTER_INFUSION, offset_hours=24, window_hours=24),
    Rule(
        "phq9",
        Trigger.AFTER_INDUCTION_WEEKLY,
        offset_hours=7 * 24,
        repeat_count=8,
        repeat_every_days=7,
        window_hours=72,
    ),
    Rule("phq9", Trigger.BEFORE_BOOSTER, offset_hours=-24, window_hours=24),
    Rule("phq9", Trigger.TMS_COURSE_WEEK, window_hours=72),
    Rule("madrs", Trigger.TMS_COURSE_START, window_hours=72),
    Rule("madrs", Trigger.TMS_COURSE_START, offset_hours=14 * 24, window_hours=72),
    Rule("madrs", Trigger.TMS_COURSE_END, window_hours=7 * 24),
)


def due_items(
    rules: Iterable[Rule], *, trigger: Trigger, event_at: datetime
) -> list[Due]:
    """What falls due, and when, because `trigger` happened (or will happen) at `event_at`."""
    if event_at.tzinfo is None:
        raise ValueError("event_at must be timezone-aware")
    items: list[Due] = []
    for rule in rules:
        if rule.trigger != trigger:
            continue
        if rule.repeat_count < 1 or (
            rule.repeat_count > 1 and rule.repeat_every_days < 1
        ):
            raise ValueError(
                f"rule for {rule.instrument_code} repeats without an interval"
            )
        first = event_at + timedelta(hours=rule.offset_hours)
        for n in range(rule.repeat_count):
            due_at = first + timedelta(days=n * rule.repeat_every_days)
            items.append(
                Due(
                    instrument_code=rule.instrument_code,
                    trigger=trigger,
                    due_at=due_at,
                    overdue_at=due_at + timedelta(hours=rule.window_hours),
                )
            )
    return sorted(items, key=lambda item: (item.due_at, item.instrument_code))


def first_open(
    due: Sequence[tuple[datetime, datetime]], *, completed_at: datetime
) -> int | None:
    """Index of the due item a response completed at `completed_at` fulfils, or None.

    The earliest item that is already due (or falls due within its own window
    of the response) wins; a response long before an item falls due does not
    fulfil it.
    """
    for index, (due_at, overdue_at) in enumerate(due):
        if completed_at >= due_at - (overdue_at - due_at):
            return index
    return None
