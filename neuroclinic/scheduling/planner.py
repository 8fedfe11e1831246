"""The induction series planner: which days and times, by OR-Tools CP-SAT.

Given, for each day, the start times at which a room, a nurse and the devices
are free (found by the booking rules), choose one time on each of `count` days
so that the series keeps the protocol's spacing (rules.check_series: K4, K5 [V]).
The objective, lexicographic by weights: finish the series as early as possible,
then meet the patient's preferred times. Series start days are tried in order,
so the earliest start that works wins; when the asked-for start does not work,
the answer says why and offers the closest later one.

No Django here: plain dates and options in, a plan or an explanation out.
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ortools.sat.python import cp_model

from neuroclinic.scheduling.rules import SeriesSpacing, check_series


@dataclass(frozen=True)
class Option:
    key: str  # the caller's handle for this start time on this day
    label: str  # e.g. "09:00"
    preferred: bool


@dataclass(frozen=True)
class Chosen:
    day: date
    option: Option
    week: int  # 1-based, from the first infusion


@dataclass(frozen=True)
class Plan:
    chosen: list[Chosen]
    start: date
    objective: float
    best_bound: float
    optimal: bool

    @property
    def gap(self) -> float:
        if self.objective == 0:
            return 0.0
        return abs(self.objective - self.best_bound) / abs(self.objective)


@dataclass(frozen=True)
class Infeasible:
    reasons: list[str]


FINISH_WEIGHT = 100  # one day earlier beats any number of preferred times
PREFERENCE_WEIGHT = 1
MIN_SOLVE_S = 0.02  # each start day's solve, once the budget is spent


def _pick(day_options: Sequence[Option], preferred: bool) -> Option:
    """A day's chosen time: its first preferred time when asked, else its earliest."""
    if preferred:
        return next(o for o in day_options if o.preferred)
    return day_options[0]


def greedy_days(
    start: date, options: Mapping[date, Sequence[Option]], spacing: SeriesSpacing
) -> list[date] | None:
    """First fit: each free day in turn that keeps the gap and the weekly maximum.

    A valid series (check_series) or None; the solver's hint, and the answer when the
    solver runs out of time without one of its own.
    """
    picked: list[date] = []
    for n in range(spacing.window_days):
        day = start + timedelta(days=n)
        if not options.get(day):
            continue
        if picked and (day - picked[-1]).days < spacing.gap_days:
            continue
        week = n // 7
        if (
            sum(1 for d in picked if (d - start).days // 7 == week)
            >= spacing.per_week_max
        ):
            continue
        picked.append(day)
        if len(picked) == spacing.count:
            break
    if not picked or picked[0] != start or check_series(picked, spacing):
        return None
    return picked


def _solve_from(
    start: date,
    options: Mapping[date, Sequence[Option]],
    spacing: SeriesSpacing,
    time_limit_s: float,
) -> Plan | None:
    """The best series starting on `start`: CP-SAT over days (is day i used, does it get a
    preferred time), hinted with the first fit. The time of a day depends on that day only,
    so one choice per day (first preferred, else earliest) loses nothing."""
    days = [
        start + timedelta(days=n)
        for n in range(spacing.window_days)
        if options.get(start + timedelta(days=n))
    ]
    if not days or days[0] != start:
        return None
    first_fit = greedy_days(start, options, spacing)
    model = cp_model.CpModel()
    y = [model.new_bool_var(f"y{i}") for i in range(len(days))]
    p: dict[int, cp_model.IntVar] = {}
    for i, day in enumerate(days):
        if any(o.preferred for o in options[day]):
            p[i] = model.new_bool_var(f"p{i}")
            model.add_implication(p[i], y[i])
    model.add(y[0] == 1)
    model.add(sum(y) == spacing.count)
    offsets = [(d - start).days for d in days]
    for i in range(len(days)):
        for j in range(i + 1, len(days)):
            if offsets[j] - offsets[i] < spacing.gap_days:
                model.add(y[i] + y[j] <= 1)
    weeks = (spacing.window_days + 6) // 7
    cumulative: cp_model.LinearExpr | int = 0
    for week in range(weeks):
        members = [y[i] for i, o in enumerate(offsets) if o // 7 == week]
        n_week = sum(members) if members else 0
        model.add(n_week <= spacing.per_week_max)
        # At least the weekly minimum, unless the series is complete by the week's end.
        keeps_pace = model.new_bool_var(f"pace{week}")
        model.add(n_week >= spacing.per_week_min).only_enforce_if(keeps_pace)
        model.add(cumulative + n_week >= spacing.count).only_enforce_if(~keeps_pace)
        cumulative = cumulative + n_week
    last = model.new_int_var(0, spacing.window_days, "last")
    for i, o in enumerate(offsets):
        model.add(last >= o).only_enforce_if(y[i])
    # Chosen days without a preferred time: count - (days given a preferred time).
    model.minimize(
        FINISH_WEIGHT * last + PREFERENCE_WEIGHT * (spacing.count - sum(p.values()))
    )
    if first_fit is not None:
        chosen_days = set(first_fit)
        for i, day in enumerate(days):
            model.add_hint(y[i], day in chosen_days)
            if i in p:
                model.add_hint(p[i], day in chosen_days)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        used = [(i, day) for i, day in enumerate(days) if solver.value(y[i])]
        preferred = {i for i in p if solver.value(p[i])}
        objective, bound = solver.objective_value, solver.best_objective_bound
    elif first_fit is not None:
        # Out of time before the solver found its own: the first fit, gap unknown.
        used = [(i, day) for i, day in enumerate(days) if day in set(first_fit)]
        preferred = {i for i, _ in used if i in p}
        last_offset = (first_fit[-1] - start).days
        objective = FINISH_WEIGHT * last_offset + spacing.count - len(preferred)
        bound = 0.0
    else:
        return None
    chosen = [
        Chosen(day, _pick(options[day], i in preferred), offsets[i] // 7 + 1)
        for i, day in used
    ]
    assert not check_series([c.day for c in chosen], spacing)
    return Plan(
        chosen=chosen,
        start=start,
        objective=objective,
        best_bound=bound,
        optimal=status == cp_model.OPTIMAL,
    )


def plan_series(
    options: Mapping[date, Sequence[Option]],
    spacing: SeriesSpacing,
    *,
    earliest: date,
    latest_start: date,
    blocked: Mapping[date, str] | None = None,
    time_limit_s: float = 0.5,
) -> tuple[Plan | None, list[str]]:
    """The best series starting as early as possible from `earliest`, within `time_limit_s`
    of solver time in all (past it, a start day gets the first fit, not proven best).

    Returns the plan (or None) and notes: why earlier starts did not work, or,
    with no plan, why none did. `blocked` says why a day has no options
    ("no nurse on shift", "rooms full"), for the explanation.
    """
    blocked = blocked or {}
    notes: list[str] = []
    deadline = time.monotonic() + time_limit_s
    day = earliest
    while day <= latest_start:
        if options.get(day):
            # One time budget for all the start days tried; the first fit answers past it.
            budget = max(MIN_SOLVE_S, deadline - time.monotonic())
            plan = _solve_from(day, options, spacing, budget)
            if plan is not None:
                if day != earliest:
                    notes.insert(
                        0,
                        f"No series fits starting {earliest:%a %d %b}; the closest "
                        f"start is {day:%a %d %b}.",
                    )
                return plan, notes
        day += timedelta(days=1)
    notes.append(
        f"No series of {spacing.count} fits starting between {earliest:%a %d %b} and "
        f"{latest_start:%a %d %b} ({spacing.per_week_min}-{spacing.per_week_max} a week, "
        f"within {spacing.window_days} days)."
    )
    window_end = earliest + timedelta(days=spacing.window_days - 1)
    free = [
        d
        for d in (earliest + timedelta(days=n) for n in range(spacing.window_days))
        if options.get(d)
    ]
    notes.append(
        f"Between {earliest:%a %d %b} and {window_end:%a %d %b}, {len(free)} day"
        f"{'s have' if len(free) != 1 else ' has'} a free room, nurse and devices; "
        f"the series needs {spacing.count}."
    )
    for week in range((spacing.window_days + 6) // 7):
        week_days = [earliest + timedelta(days=7 * week + n) for n in range(7)]
        open_days = [d for d in week_days if options.get(d)]
        if len(open_days) < spacing.per_week_min:
            why = sorted({blocked[d] for d in week_days if d in blocked})
            notes.append(
                f"Week {week + 1} ({week_days[0]:%d %b}-{week_days[-1]:%d %b}) has "
                f"{len(open_days)} free day{'s' if len(open_days) != 1 else ''}"
                + (f": {'; '.join(why)}." if why else ".")
            )
    return None, notes
