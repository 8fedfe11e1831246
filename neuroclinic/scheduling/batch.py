"""Many induction series at once: one CP-SAT model over every new patient (issue #9).

The single-series planner (planner.py) picks one patient's days against a calendar
that is already fixed. Proposing for many new patients at once, each proposal
changes what is free for the others, so they are planned jointly here.

The model
---------
- **A series as a path.** Each series follows the protocol's spacing (rules.check_series,
  K4, K5 [V]): `count` infusions, at most `per_week_max` and (until done) at least
  `per_week_min` in each week counted from the first infusion, days at least
  `min_days_between` apart, the last before `window_days`. That rule is a small automaton
  over (day of the series, infusions so far, infusions this week, days since the last);
  a patient's series is a path through it, one step a day. Patients who asked for the
  same earliest and latest start and the same preferred times are interchangeable, so
  each such group is an integer *flow* through (day, state): how many of the group are
  in each state on each day. An integer flow on this acyclic graph splits into one path
  per patient, so nothing is lost by counting instead of naming (and the model does not
  grow with the number of patients, only with the number of groups and days).
- **Times and capacity.** Each day offers start times on a grid (as the single planner:
  the booking rules' hours, prescriber on site, not in the past). A start time takes a
  set of capacity keys (for example "room 09:00-09:30", "nurse 09:00-09:30", "pump ...")
  and each key has a limit: how many more visits it can hold after what is already
  booked. The caller works these out from the calendar (actions/batch.py): rooms and
  devices for the held time, a nurse's ratio for the visit time. How many of a group
  start at each time on a day is an integer count; the counts of a day sum to the
  group's infusions that day.
- **Objective** (the clinic's, as the single planner's weights): each day a series ends
  after the patient's earliest start costs FINISH_WEIGHT; each visit not at one of the
  patient's preferred times costs PREFERENCE_WEIGHT. The solver reports the objective,
  its proven bound and so the optimality gap.

Counting capacity per grid cell is exact for identical rooms (and devices of a kind)
when every new visit starts on the grid: intervals whose overlap never exceeds the
number of rooms can be given rooms in start order. Nurses are counted as the sum of
what each nurse on shift can still watch; the caller checks the concrete room, nurse
and devices of every visit with the booking rules afterwards and reports any it
cannot place.

No Django here: dates, labels and counts in, series and solver figures out.
"""

import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from ortools.linear_solver import pywraplp  # type: ignore[import-untyped]
from ortools.sat.python import cp_model

from neuroclinic.scheduling.planner import FINISH_WEIGHT, PREFERENCE_WEIGHT
from neuroclinic.scheduling.rules import SeriesSpacing, check_series


@dataclass(frozen=True)
class Day:
    """One day's start times and what they take.

    `starts`: start label (e.g. "09:00") -> the capacity keys a visit starting then takes.
    `limits`: capacity key -> how many more new visits it can hold (a key not listed
    has no limit).
    """

    starts: Mapping[str, Sequence[str]]
    limits: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    key: str  # the caller's handle for the patient (or plan)
    earliest: date  # the first day the series may start
    latest_start: date  # the last day it may start
    preferred: frozenset[str] = frozenset()  # preferred start labels
    # (day, start label) the patient cannot take: they hold another visit then (at this
    # location or another). Patients with the same blocked times group together.
    blocked: frozenset[tuple[date, str]] = frozenset()


@dataclass(frozen=True)
class BatchResult:
    status: (
        str  # "optimal", "feasible", "infeasible", "unknown" (out of time, none found)
    )
    series: dict[
        str, list[tuple[date, str]]
    ]  # request key -> (day, start label), in order
    objective: float
    best_bound: float
    wall_s: float
    visits: int
    preferred_met: int
    finish_days: dict[
        str, int
    ]  # request key -> days from its earliest start to its last visit

    @property
    def gap(self) -> float:
        """The proven optimality gap: (objective - bound) / objective."""
        if not self.series or self.objective == 0:
            return 0.0
        return abs(self.objective - self.best_bound) / abs(self.objective)


# The spacing automaton -------------------------------------------------------------

# A state before deciding a day: (day of the series, infusions so far, this week, days since
# the last infusion, capped at the gap).
State = tuple[int, int, int, int]
DONE: State = (-1, -1, -1, -1)


def _step(spacing: SeriesSpacing, state: State, infuse: bool) -> State | None:
    """The state after the series' day `state[0]`, or DONE, or None when the step breaks a rule."""
    offset, done, week_done, since = state
    if infuse:
        if (
            done >= spacing.count
            or week_done >= spacing.per_week_max
            or since < spacing.gap_days
        ):
            return None
        done, week_done, since = done + 1, week_done + 1, 1
        if done == spacing.count:
            return DONE
    else:
        since = min(since + 1, spacing.gap_days)
    if offset % 7 == 6:
        # The week ends: its minimum (or what is left of the series) must have been given.
        before = done - week_done
        if week_done < min(spacing.per_week_min, spacing.count - before):
            return None
        week_done = 0
    if offset + 1 >= spacing.window_days:
        return None
    return (offset + 1, done, week_done, since)


def automaton(
    spacing: SeriesSpacing,
) -> tuple[State, dict[State, list[tuple[bool, State]]]]:
    """The state after the first infusion (the series' day 0) and, for every state from which
    the series can still be finished, its allowed steps (infuse or not, and where they lead)."""

    @cache
    def can_finish(state: State) -> bool:
        if state == DONE:
            return True
        return any(
            (nxt := _step(spacing, state, infuse)) is not None and can_finish(nxt)
            for infuse in (True, False)
        )

    # Day 0 is the first infusion: the state before day 0, infusing.
    first = _step(spacing, (0, 0, 0, spacing.gap_days), True)
    steps: dict[State, list[tuple[bool, State]]] = {}
    if first is None or not can_finish(first):
        return DONE, steps
    todo = [first] if first != DONE else []
    while todo:
        state = todo.pop()
        if state in steps:
            continue
        steps[state] = []
        for infuse in (True, False):
            nxt = _step(spacing, state, infuse)
            if nxt is not None and can_finish(nxt):
                steps[state].append((infuse, nxt))
                if nxt != DONE and nxt not in steps:
                    todo.append(nxt)
    return first, steps


# The joint model --------------------------------------------------------------------


@dataclass
class _Group:
    earliest: date
    latest_start: date
    preferred: frozenset[str]
    keys: list[str]
    blocked: frozenset[tuple[date, str]] = frozenset()


def _groups(requests: Sequence[Request]) -> list[_Group]:
    by: dict[
        tuple[date, date, frozenset[str], frozenset[tuple[date, str]]], _Group
    ] = {}
    for r in requests:
        sig = (r.earliest, r.latest_start, r.preferred, r.blocked)
        by.setdefault(
            sig, _Group(r.earliest, r.latest_start, r.preferred, [], r.blocked)
        ).keys.append(r.key)
    return list(by.values())


def plan_batch(
    requests: Sequence[Request],
    days: Mapping[date, Day],
    spacing: SeriesSpacing,
    *,
    time_limit_s: float = 50.0,
    workers: int = 2,
    log: bool = False,
) -> BatchResult:
    """Series for every request at once, best for the clinic's objective within the time limit.

    All or nothing: when not every request can have a series, the status is "infeasible"
    (or "unknown" when the time ran out first) and no series is given.
    """
    began = time.monotonic()
    if len({r.key for r in requests}) != len(requests):
        raise ValueError("Each request needs its own key.")
    first, steps = automaton(spacing)
    groups = _groups(requests)
    model = cp_model.CpModel()
    # arcs[g][(day, state)] -> [(infuse, next state, flow var)]
    arcs: list[dict[tuple[date, State], list[tuple[bool, State, cp_model.IntVar]]]] = []
    starts: list[dict[date, cp_model.IntVar]] = []
    infusing: list[dict[date, list[cp_model.IntVar]]] = []
    finish_terms: list[tuple[int, cp_model.IntVar]] = []
    slot: dict[tuple[int, date, str], cp_model.IntVar] = {}
    impossible = not steps and first != DONE
    for g, group in enumerate(groups):
        size = len(group.keys)
        g_arcs: dict[tuple[date, State], list[tuple[bool, State, cp_model.IntVar]]] = {}
        g_starts: dict[date, cp_model.IntVar] = {}
        g_infusing: dict[date, list[cp_model.IntVar]] = defaultdict(list)
        # inflow[(day, state)]: flows arriving at that state on that day.
        inflow: dict[tuple[date, State], list[cp_model.IntVar]] = defaultdict(list)
        day = group.earliest
        while day <= group.latest_start:
            if days.get(day) and days[day].starts and not impossible:
                var = model.new_int_var(0, size, f"s{g}_{day:%m%d}")
                g_starts[day] = var
                g_infusing[day].append(var)
                if first == DONE:
                    finish_terms.append(((day - group.earliest).days, var))
                else:
                    inflow[(day + timedelta(days=1), first)].append(var)
            day += timedelta(days=1)
        if g_starts:
            model.add(sum(g_starts.values()) == size)
        else:
            impossible = True
        # Walk the days in order, creating arcs only for (day, state) pairs flow can reach
        # (every flow into a day's state comes from the day before).
        day = min(g_starts, default=group.earliest) + timedelta(days=1)
        last_day = group.latest_start + timedelta(days=spacing.window_days)
        while day <= last_day:
            todays = sorted(node for node in inflow if node[0] == day)
            for node in todays:
                state = node[1]
                out: list[tuple[bool, State, cp_model.IntVar]] = []
                for infuse, nxt in steps.get(state, []):
                    if infuse and not (days.get(day) and days[day].starts):
                        continue
                    var = model.new_int_var(
                        0, size, f"f{g}_{len(g_arcs)}_{int(infuse)}"
                    )
                    out.append((infuse, nxt, var))
                    if infuse:
                        g_infusing[day].append(var)
                    if nxt == DONE:
                        finish_terms.append(((day - group.earliest).days, var))
                    else:
                        inflow[(day + timedelta(days=1), nxt)].append(var)
                g_arcs[node] = out
                model.add(sum(v for _, _, v in out) == sum(inflow[node]))
            day += timedelta(days=1)
        arcs.append(g_arcs)
        starts.append(g_starts)
        infusing.append(g_infusing)
        for day, flows in g_infusing.items():
            labels = list(days[day].starts)
            counts = [
                model.new_int_var(0, size, f"n{g}_{day:%m%d}_{s}") for s in labels
            ]
            for label, var in zip(labels, counts, strict=True):
                slot[(g, day, label)] = var
                if (day, label) in group.blocked:
                    model.add(var == 0)  # the group's patients are elsewhere then
            model.add(sum(counts) == sum(flows))
    # Capacity: each key's limit holds across every group's starts that take it.
    takes: dict[tuple[date, str], list[cp_model.IntVar]] = defaultdict(list)
    for (_g, day, label), var in slot.items():
        for key in days[day].starts[label]:
            takes[(day, key)].append(var)
    for (day, key), users in takes.items():
        limit = days[day].limits.get(key)
        if limit is not None:
            model.add(sum(users) <= max(0, limit))
    preferred = [
        var for (g, _day, label), var in slot.items() if label in groups[g].preferred
    ]
    total_visits = spacing.count * len(requests)
    model.minimize(
        FINISH_WEIGHT * sum(days_ * var for days_, var in finish_terms)
        + PREFERENCE_WEIGHT * (total_visits - sum(preferred))
    )
    first_fit = greedy_batch(requests, days, spacing)
    if first_fit is not None and not impossible:
        _hint(model, groups, first_fit, arcs, starts, slot, first, spacing)
    relaxation = lp_relaxation(model) if requests and not impossible else None
    lp_bound = relaxation[0] if relaxation else None
    if relaxation is not None:
        near = _solve_near(
            model,
            relaxation[1],
            (time_limit_s - (time.monotonic() - began)) / 3,
            workers,
            {v.index for v in slot.values()},
        )
        if near is not None:
            model.clear_hints()  # type: ignore[no-untyped-call]
            for index, hinted_value in enumerate(near):
                model.add_hint(model.get_int_var_from_proto_index(index), hinted_value)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(
        0.1, time_limit_s - (time.monotonic() - began)
    )
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.log_search_progress = log
    code = solver.solve(model) if requests else cp_model.OPTIMAL
    # The hint (the LP-guided solution, else the first fit) is feasible by construction:
    # when the solver runs out of time before confirming any solution, it is the answer.
    hinted = model.proto.solution_hint
    fallback = (
        dict(zip(hinted.vars, hinted.values, strict=True))
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE) and len(hinted.vars)
        else None
    )
    if fallback is not None and not impossible:
        code = cp_model.FEASIBLE
    status = {
        cp_model.OPTIMAL: "optimal",
        cp_model.FEASIBLE: "feasible",
        cp_model.INFEASIBLE: "infeasible",
        cp_model.MODEL_INVALID: "infeasible",
    }.get(code, "unknown")
    if impossible and requests:
        status = "infeasible"
    if status == "unknown" and first_fit is not None and not impossible:
        # Out of time with no solution of the model's own (a busy machine): the first
        # fit is a valid plan, so it is the answer, with the LP bound as its proof.
        return _first_fit_result(requests, first_fit, lp_bound, began)
    if status not in ("optimal", "feasible") or not requests:
        return BatchResult(
            status=status,
            series={},
            objective=0.0,
            best_bound=0.0,
            wall_s=time.monotonic() - began,
            visits=0,
            preferred_met=0,
            finish_days={},
        )

    def value(var: cp_model.IntVar) -> int:
        if fallback is not None:
            return int(fallback.get(var.index, 0))
        return int(solver.value(var))

    series, finish = _paths(groups, arcs, starts, slot, first, value)
    objective = sum(
        FINISH_WEIGHT * finish[r.key]
        + PREFERENCE_WEIGHT
        * sum(1 for _, label in series[r.key] if label not in r.preferred)
        for r in requests
    )
    solver_bound = solver.best_objective_bound if fallback is None else 0.0
    met = sum(
        1
        for g, group in enumerate(groups)
        for key in group.keys
        for _, label in series[key]
        if label in group.preferred
    )
    for visits in series.values():
        assert not check_series([d for d, _ in visits], spacing)
    return BatchResult(
        status=status,
        series=series,
        # The objective takes whole values: the solver's floats round to them.
        objective=float(objective),
        best_bound=float(max(math.ceil(solver_bound - 1e-6), lp_bound or 0.0)),
        wall_s=time.monotonic() - began,
        visits=sum(len(v) for v in series.values()),
        preferred_met=met,
        finish_days=finish,
    )


def _first_fit_result(
    requests: Sequence[Request],
    chosen: Mapping[str, list[tuple[date, str]]],
    lp_bound: float | None,
    began: float,
) -> BatchResult:
    """The first-fit series as a feasible answer, costed by the solver's objective."""
    finish = {r.key: (chosen[r.key][-1][0] - r.earliest).days for r in requests}
    met = sum(1 for r in requests for _, label in chosen[r.key] if label in r.preferred)
    objective = sum(
        FINISH_WEIGHT * finish[r.key]
        + PREFERENCE_WEIGHT
        * sum(1 for _, label in chosen[r.key] if label not in r.preferred)
        for r in requests
    )
    return BatchResult(
        status="feasible",
        series={r.key: list(chosen[r.key]) for r in requests},
        objective=float(objective),
        best_bound=float(lp_bound or 0.0),
        wall_s=time.monotonic() - began,
        visits=sum(len(chosen[r.key]) for r in requests),
        preferred_met=met,
        finish_days=finish,
    )


def _paths(
    groups: list[_Group],
    arcs: list[dict[tuple[date, State], list[tuple[bool, State, cp_model.IntVar]]]],
    starts: list[dict[date, cp_model.IntVar]],
    slot: Mapping[tuple[int, date, str], cp_model.IntVar],
    first: State,
    value: Callable[[cp_model.IntVar], int],
) -> tuple[dict[str, list[tuple[date, str]]], dict[str, int]]:
    """Split each group's flow into one series per patient, then give each day's infusions
    of the group the start times the solver counted (preferred ones first, as any of the
    group would take them)."""
    series: dict[str, list[tuple[date, str]]] = {}
    finish: dict[str, int] = {}
    for g, group in enumerate(groups):
        waiting = list(group.keys)
        at: dict[tuple[date, State], list[str]] = defaultdict(list)
        infused: dict[date, list[str]] = defaultdict(list)
        days_used = sorted(
            set(starts[g]) | {d for d, _ in arcs[g]},
        )
        for day in days_used:
            n = value(starts[g][day]) if day in starts[g] else 0
            for key in waiting[:n]:
                infused[day].append(key)
                if first == DONE:
                    finish[key] = (day - group.earliest).days
                else:
                    at[(day + timedelta(days=1), first)].append(key)
            waiting = waiting[n:]
            for node in sorted((k for k in arcs[g] if k[0] == day), key=lambda k: k[1]):
                people = at.pop(node, [])
                for infuse, nxt, var in arcs[g][node]:
                    moving, people = (
                        people[: value(var)],
                        people[value(var) :],
                    )
                    if infuse:
                        infused[day].extend(moving)
                    if nxt == DONE:
                        for key in moving:
                            finish[key] = (day - group.earliest).days
                    else:
                        at[(day + timedelta(days=1), nxt)].extend(moving)
                assert not people, "flow conservation"
        for day in sorted(infused):
            labels = sorted(
                (label for (gg, d, label) in slot if gg == g and d == day),
                key=lambda label: (label not in group.preferred, label),
            )
            queue = [
                label for label in labels for _ in range(value(slot[(g, day, label)]))
            ]
            assert len(queue) == len(infused[day])
            for key, label in zip(infused[day], queue, strict=True):
                series.setdefault(key, []).append((day, label))
    return series, finish


# A first fit to start from, and a bound to prove against ----------------------------


def greedy_batch(
    requests: Sequence[Request], days: Mapping[date, Day], spacing: SeriesSpacing
) -> dict[str, list[tuple[date, str]]] | None:
    """Each patient in turn takes the series that finishes soonest in what the ones before
    left (each day of it at a preferred time when one is free, else the earliest): the
    solver's starting point. None when some patient finds no series."""
    first, steps = automaton(spacing)
    left: dict[tuple[date, str], int] = {
        (day, key): limit for day, d in days.items() for key, limit in d.limits.items()
    }

    def free_label(day: date, request: Request) -> str | None:
        d = days.get(day)
        if d is None:
            return None
        fits = [
            label
            for label, keys in d.starts.items()
            if (day, label) not in request.blocked
            and all(left.get((day, k), 1) > 0 for k in keys)
        ]
        fits.sort(key=lambda label: (label not in request.preferred, label))
        return fits[0] if fits else None

    def series_from(start: date, request: Request) -> list[tuple[date, str]] | None:
        label = free_label(start, request)
        if label is None:
            return None
        taken = [(start, label)]
        state, day = first, start + timedelta(days=1)
        while state != DONE:
            moves = dict(steps.get(state, []))
            label = free_label(day, request) if True in moves else None
            if label is not None:
                taken.append((day, label))
                state = moves[True]
            elif False in moves:
                state = moves[False]
            else:
                return None
            day += timedelta(days=1)
        return taken

    chosen: dict[str, list[tuple[date, str]]] = {}
    for request in sorted(requests, key=lambda r: r.earliest):
        best: list[tuple[date, str]] | None = None
        day = request.earliest
        while day <= request.latest_start:
            if best is not None and day > best[-1][0]:
                break  # a later start cannot finish sooner
            found = series_from(day, request) if first != DONE or day in days else None
            if first == DONE and day in days:
                label = free_label(day, request)
                found = [(day, label)] if label else None
            if found and (best is None or found[-1][0] < best[-1][0]):
                best = found
            day += timedelta(days=1)
        if best is None:
            return None
        for day, label in best:
            for key in days[day].starts[label]:
                if (day, key) in left:
                    left[(day, key)] -= 1
        chosen[request.key] = best
    return chosen


def _hint(
    model: cp_model.CpModel,
    groups: list[_Group],
    chosen: Mapping[str, list[tuple[date, str]]],
    arcs: list[dict[tuple[date, State], list[tuple[bool, State, cp_model.IntVar]]]],
    starts: list[dict[date, cp_model.IntVar]],
    slot: Mapping[tuple[int, date, str], cp_model.IntVar],
    first: State,
    spacing: SeriesSpacing,
) -> None:
    """Hint the solver with these series (each variable: how many of them use it)."""
    value: dict[int, int] = defaultdict(int)
    every: list[cp_model.IntVar] = list(slot.values())
    for g, group in enumerate(groups):
        every += list(starts[g].values())
        for out in arcs[g].values():
            every += [v for _, _, v in out]
        for key in group.keys:
            visits = chosen[key]
            on = {d for d, _ in visits}
            value[starts[g][visits[0][0]].index] += 1
            for day, label in visits:
                value[slot[(g, day, label)].index] += 1
            state, day = first, visits[0][0] + timedelta(days=1)
            while state != DONE:
                infuse = day in on
                for arc_infuse, nxt, var in arcs[g].get((day, state), []):
                    if arc_infuse == infuse:
                        value[var.index] += 1
                        state = nxt
                        break
                else:
                    return  # not a path of the model: no hint
                day += timedelta(days=1)
    for var in every:
        model.add_hint(var, value.get(var.index, 0))


def lp_relaxation(
    model: cp_model.CpModel,
) -> tuple[float, list[float]] | None:
    """The model's linear relaxation solved by GLOP: a proven lower bound on its optimum
    (every constraint here is linear; integrality is what is relaxed), and the relaxed
    values. None when GLOP does not reach optimality."""
    proto = model.proto
    lp = pywraplp.Solver.CreateSolver("GLOP")
    if lp is None:
        return None
    inf = lp.infinity()

    def ends(domain: Sequence[int]) -> tuple[float, float]:
        lo, hi = domain[0], domain[len(domain) - 1]
        return (-inf if lo <= -(2**62) else lo), (inf if hi >= 2**62 else hi)

    xs = [lp.NumVar(*ends(v.domain), "") for v in proto.variables]
    for c in proto.constraints:
        row = lp.Constraint(*ends(c.linear.domain))
        for v, k in zip(c.linear.vars, c.linear.coeffs, strict=True):
            row.SetCoefficient(xs[v], k)
    objective = lp.Objective()
    for v, k in zip(proto.objective.vars, proto.objective.coeffs, strict=True):
        objective.SetCoefficient(xs[v], k)
    objective.SetOffset(proto.objective.offset)
    objective.SetMinimization()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    # The objective takes whole values: the bound rounds up (less a tolerance).
    return float(math.ceil(objective.Value() - 1e-6)), [x.solution_value() for x in xs]


def _solve_near(
    model: cp_model.CpModel,
    relaxed: Sequence[float],
    time_limit_s: float,
    workers: int,
    free: set[int],
) -> list[int] | None:
    """A good solution fast: the same model with every variable the relaxation left at
    zero fixed at zero (much smaller), solved briefly. Only a starting point for the
    full model, never its proof."""
    hinted = model.proto.solution_hint
    used = {v for v, x in zip(hinted.vars, hinted.values, strict=True) if x}
    near = model.clone()
    for index, value in enumerate(relaxed):
        if value < 1e-6 and index not in used and index not in free:
            near.add(near.get_int_var_from_proto_index(index) == 0)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit_s)
    solver.parameters.num_workers = max(1, workers)
    code = solver.solve(near)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return [
        int(solver.value(near.get_int_var_from_proto_index(i)))
        for i in range(len(relaxed))
    ]
