"""Where a treatment plan stands: induction, the follow-up window, maintenance.

Sources (ids expand in docs/sources.md): an induction series of up to 6 infusions at
2-3 a week (K4, K5 [V]; K22 [P]); the 10-14 day follow-up window after the series
(issue #6; relapse among responders at a median 18 days, K5 [V]); maintenance with
single boosters when symptoms return, often every 4-6 weeks (K22 [P]), individualized
(K7 [V]). The numbers
are protocol settings (neuroclinic/treatment/defaults.py), passed in here.

Dates are calendar dates in the clinic's time zone.

Pure module: standard library only.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Phase(StrEnum):
    INDUCTION = "induction"
    FOLLOW_UP = "follow_up"
    MAINTENANCE = "maintenance"
    ENDED = "ended"


PHASE_LABELS = {
    Phase.INDUCTION: "Induction series",
    Phase.FOLLOW_UP: "Follow-up window",
    Phase.MAINTENANCE: "Maintenance (boosters as needed)",
    Phase.ENDED: "Plan ended",
}


@dataclass(frozen=True)
class PlanStatus:
    phase: Phase
    induction_done: int
    induction_target: int
    follow_up_from: date | None  # the 10-14 day window, once the series is done
    follow_up_until: date | None
    series_deadline: date | None  # first induction infusion + window days

    @property
    def label(self) -> str:
        return PHASE_LABELS[self.phase]

    @property
    def progress(self) -> str:
        return f"{min(self.induction_done, self.induction_target)} of {self.induction_target}"


@dataclass(frozen=True)
class SeriesProblem:
    hard_stop: bool
    message: str


def plan_status(
    *,
    induction_target: int,
    induction_dates: Sequence[date],
    today: date,
    follow_up_start_days: int,
    follow_up_end_days: int,
    series_window_days: int,
    ended: bool = False,
) -> PlanStatus:
    """The phase on `today` from the dates of the completed induction infusions."""
    if induction_target < 1:
        raise ValueError("induction_target must be at least 1")
    if not 0 <= follow_up_start_days <= follow_up_end_days:
        raise ValueError("the follow-up window must start before it ends")
    done = sorted(induction_dates)
    deadline = done[0] + timedelta(days=series_window_days) if done else None
    follow_from = follow_until = None
    if len(done) >= induction_target:
        last = done[induction_target - 1]
        follow_from = last + timedelta(days=follow_up_start_days)
        follow_until = last + timedelta(days=follow_up_end_days)
    if ended:
        phase = Phase.ENDED
    elif follow_until is None:
        phase = Phase.INDUCTION
    elif today <= follow_until:
        phase = Phase.FOLLOW_UP
    else:
        phase = Phase.MAINTENANCE
    return PlanStatus(
        phase=phase,
        induction_done=len(done),
        induction_target=induction_target,
        follow_up_from=follow_from,
        follow_up_until=follow_until,
        series_deadline=deadline,
    )


def series_problems(
    *,
    infusion_count: int,
    given_dates: Sequence[date],
    on: date,
    series_window_days: int,
    min_days_between_infusions: int,
    infusions_per_week_max: int,
    spacing_overridden: bool = False,
) -> list[SeriesProblem]:
    """What stands against one more infusion of a series on `on`.

    Hard stops: the order's infusions are all given; too soon after the last one or
    more than the weekly maximum in the last 7 days (unless `spacing_overridden`:
    checked in over the rhythm with a written reason, issue #14 item 9).
    A warning (the prescriber's call, shown on the checklist): past the series window.
    """
    problems: list[SeriesProblem] = []
    given = sorted(given_dates)
    if len(given) >= infusion_count:
        problems.append(
            SeriesProblem(
                True,
                f"All {infusion_count} infusion{'s' if infusion_count != 1 else ''} of this "
                "order are given: another needs a new order.",
            )
        )
    if given:
        last = given[-1]
        gap = (on - last).days
        if gap < min_days_between_infusions:
            problems.append(
                SeriesProblem(
                    not spacing_overridden,
                    f"The last infusion was on {last.isoformat()}; the protocol asks for at "
                    f"least {min_days_between_infusions} day"
                    f"{'s' if min_days_between_infusions != 1 else ''} between infusions.",
                )
            )
        week = [d for d in given if on - timedelta(days=6) <= d <= on]
        if len(week) + 1 > infusions_per_week_max:
            problems.append(
                SeriesProblem(
                    not spacing_overridden,
                    f"This would be infusion {len(week) + 1} in 7 days; the protocol allows "
                    f"{infusions_per_week_max} a week.",
                )
            )
        day = (on - given[0]).days + 1
        if day > series_window_days:
            problems.append(
                SeriesProblem(
                    False,
                    f"Day {day} of the series: past the protocol's {series_window_days}-day window.",
                )
            )
    return problems


def spacing_problems(
    *,
    given_dates: Sequence[date],
    on: date,
    min_days_between_infusions: int,
    infusions_per_week_max: int,
    booster_interval_days_min: int | None = None,
) -> list[str]:
    """What the protocol's rhythm says against one more infusion on `on` (issue #14 item 9).

    `given_dates` are the days the patient was infused (any plan, any order), in the
    clinic's time zone. Induction series run 2-3 a week, at most one a day (K4, K4b,
    K5 [V]); a booster comes a little before the effect wears off, often every 4-6
    weeks (K3 [V], K22 [P]), so `booster_interval_days_min` is passed for a booster
    order only. Each message names the rule; checking in over one needs a written
    reason. Nothing here is a warning: an empty list means none applies.
    """
    problems: list[str] = []
    earlier = sorted(d for d in given_dates if d <= on)
    if earlier:
        last = earlier[-1]
        gap = (on - last).days
        if gap < min_days_between_infusions:
            problems.append(
                f"Minimum days between infusions: the last infusion was on "
                f"{last.isoformat()} ({gap} day{'s' if gap != 1 else ''} ago); the protocol "
                f"asks for at least {min_days_between_infusions}."
            )
        if booster_interval_days_min is not None and gap < booster_interval_days_min:
            problems.append(
                f"Booster interval: the last infusion was {gap} day{'s' if gap != 1 else ''} "
                f"ago; the protocol's booster interval is at least "
                f"{booster_interval_days_min} days."
            )
    week = [d for d in earlier if on - timedelta(days=6) <= d]
    if len(week) + 1 > infusions_per_week_max:
        problems.append(
            f"Weekly maximum: this would be infusion {len(week) + 1} in 7 days; the "
            f"protocol allows {infusions_per_week_max} a week."
        )
    return problems
