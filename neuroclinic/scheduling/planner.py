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


def _solve_from(
    start: date,
    options: Mapping[date, Sequence[Option]],
    spacing: SeriesSpacing,
    time_limit_s: float,
) -> Plan | None:
    days = [
        start + timedelta(days=n)
        for n in range(spacing.window_days)
        if options.get(start + timedelta(days=n))
    ]
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    y: list[cp_model.IntVar] = []
    for i, day in enumerate(days):
        row = [model.new_bool_var(f"x{i}_{k}") for k in range(len(options[day]))]
        for k, var in enumerate(row):
            x[i, k] = var
        yd = model.new_bool_var(f"y{i}")
        model.add(sum(row) == yd)
        y.append(yd)
    if not days or days[0] != start:
        return None
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
    not_preferred = [
        x[i, k]
        for i, day in enumerate(days)
        for k, option in enumerate(options[day])
        if not option.preferred
    ]
    model.minimize(FINISH_WEIGHT * last + PREFERENCE_WEIGHT * sum(not_preferred))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    chosen = []
    for i, day in enumerate(days):
        for k, option in enumerate(options[day]):
            if solver.value(x[i, k]):
                chosen.append(Chosen(day, option, offsets[i] // 7 + 1))
    assert not check_series([c.day for c in chosen], spacing)
    return Plan(
        chosen=chosen,
        start=start,
        objective=solver.objective_value,
        best_bound=solver.best_objective_bound,
        optimal=status == cp_model.OPTIMAL,
    )


def plan_series(
    options: Mapping[date, Sequence[Option]],
    spacing: SeriesSpacing,
    *,
    earliest: date,
    latest_start: date,
    blocked: Mapping[date, str] | None = None,
    time_limit_s: float = 2.0,
) -> tuple[Plan | None, list[str]]:
    """The best series starting as early as possible from `earliest`.

    Returns the plan (or None) and notes: why earlier starts did not work, or,
    with no plan, why none did. `blocked` says why a day has no options
    ("no nurse on shift", "rooms full"), for the explanation.
    """
    blocked = blocked or {}
    notes: list[str] = []
    day = earliest
    while day <= latest_start:
        if options.get(day):
            plan = _solve_from(day, options, spacing, time_limit_s)
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
