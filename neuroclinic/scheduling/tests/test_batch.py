"""The joint planner for many new series (batch.py), without a database.

The spacing automaton is compared with rules.check_series over every possible series;
small cases are compared with an optimum found by brute force.
"""

from collections.abc import Iterator
from datetime import date, timedelta
from itertools import combinations, product

import pytest
from ortools.sat.python import cp_model

from neuroclinic.scheduling import batch
from neuroclinic.scheduling.planner import FINISH_WEIGHT, PREFERENCE_WEIGHT
from neuroclinic.scheduling.rules import INDUCTION_SPACING, SeriesSpacing, check_series

MONDAY = date(2026, 3, 2)
# A short series so brute force stays small: three visits, one or two a week, two days apart.
SHORT = SeriesSpacing(
    count=3, per_week_min=1, per_week_max=2, window_days=14, min_days_between=2
)
# Smaller still, for brute force over several patients: two visits, 2-6 days apart.
TINY = SeriesSpacing(
    count=2, per_week_min=1, per_week_max=2, window_days=7, min_days_between=2
)


def paths(spacing: SeriesSpacing) -> set[tuple[int, ...]]:
    """Every series the automaton allows, as day offsets from its first infusion."""
    first, steps = batch.automaton(spacing)
    found: set[tuple[int, ...]] = set()

    def walk(state: batch.State, days: tuple[int, ...]) -> None:
        for infuse, nxt in steps.get(state, []):
            offset = state[0]
            taken = (*days, offset) if infuse else days
            if nxt == batch.DONE:
                found.add(taken)
            else:
                walk(nxt, taken)

    if first == batch.DONE:
        return {(0,)}
    walk(first, (0,))
    return found


def valid(spacing: SeriesSpacing) -> set[tuple[int, ...]]:
    """Every series check_series accepts (first infusion on day 0)."""
    return {
        (0, *rest)
        for rest in combinations(range(1, spacing.window_days), spacing.count - 1)
        if not check_series(
            [MONDAY] + [MONDAY + timedelta(days=o) for o in rest], spacing
        )
    }


@pytest.mark.parametrize(
    "spacing",
    [
        INDUCTION_SPACING,
        SHORT,
        SeriesSpacing(
            count=4, per_week_min=2, per_week_max=2, window_days=14, min_days_between=1
        ),
        SeriesSpacing(
            count=1, per_week_min=1, per_week_max=1, window_days=7, min_days_between=1
        ),
    ],
)
def test_the_automaton_allows_exactly_the_series_the_rules_allow(
    spacing: SeriesSpacing,
) -> None:
    assert paths(spacing) == valid(spacing)


def one_room_days(
    n: int, labels: tuple[str, ...] = ("09:00",), limit: int = 1
) -> dict[date, batch.Day]:
    """n days from MONDAY; each label its own room, holding `limit` visits a day."""
    return {
        MONDAY + timedelta(days=d): batch.Day(
            starts={label: [f"room-{label}"] for label in labels},
            limits={f"room-{label}": limit for label in labels},
        )
        for d in range(n)
    }


def cost(
    series: dict[str, list[tuple[date, str]]], requests: list[batch.Request]
) -> int:
    by = {r.key: r for r in requests}
    total = 0
    for key, visits in series.items():
        total += FINISH_WEIGHT * (visits[-1][0] - by[key].earliest).days
        total += PREFERENCE_WEIGHT * sum(
            1 for _, label in visits if label not in by[key].preferred
        )
    return total


def brute_force(
    requests: list[batch.Request],
    days: dict[date, batch.Day],
    spacing: SeriesSpacing,
) -> int | None:
    """The best cost over every combination of series, start and times (small cases)."""
    shapes = sorted(valid(spacing))

    def options(r: batch.Request) -> Iterator[list[tuple[date, str]]]:
        start = r.earliest
        while start <= r.latest_start:
            for shape in shapes:
                visit_days = [start + timedelta(days=o) for o in shape]
                if all(d in days for d in visit_days):
                    for labels in product(*(list(days[d].starts) for d in visit_days)):
                        yield list(zip(visit_days, labels, strict=True))
            start += timedelta(days=1)

    best: int | None = None
    for combo in product(*(list(options(r)) for r in requests)):
        used: dict[tuple[date, str], int] = {}
        for visits in combo:
            for day, label in visits:
                for key in days[day].starts[label]:
                    used[(day, key)] = used.get((day, key), 0) + 1
        if any(n > days[d].limits.get(k, n) for (d, k), n in used.items()):
            continue
        value = cost({r.key: v for r, v in zip(requests, combo, strict=True)}, requests)
        best = value if best is None else min(best, value)
    return best


def request(
    key: str, latest: int = 0, preferred: tuple[str, ...] = (), earliest: int = 0
) -> batch.Request:
    return batch.Request(
        key,
        MONDAY + timedelta(days=earliest),
        MONDAY + timedelta(days=latest),
        frozenset(preferred),
    )


def assert_within_capacity(
    result: batch.BatchResult, days: dict[date, batch.Day]
) -> None:
    used: dict[tuple[date, str], int] = {}
    for visits in result.series.values():
        for day, label in visits:
            for key in days[day].starts[label]:
                used[(day, key)] = used.get((day, key), 0) + 1
    for (day, key), n in used.items():
        assert n <= days[day].limits.get(key, n)


CASES = [
    # (name, spacing, days, requests, known optimum)
    (
        "one patient, every day free: done on day 9, no preference asked",
        INDUCTION_SPACING,
        one_room_days(21),
        [request("a")],
        FINISH_WEIGHT * 9 + 6,
    ),
    (
        "one patient who prefers 11:00 gets it every time",
        INDUCTION_SPACING,
        one_room_days(21, ("09:00", "11:00")),
        [request("a", preferred=("11:00",))],
        FINISH_WEIGHT * 9,
    ),
    (
        "two patients, one room a day: the second waits",
        TINY,
        one_room_days(12),
        [request("a", latest=3), request("b", latest=3)],
        None,  # brute force
    ),
    (
        "three patients, two times a day sharing one nurse slot",
        TINY,
        {
            MONDAY + timedelta(days=d): batch.Day(
                starts={"09:00": ["room1", "nurse"], "10:00": ["room2", "nurse"]},
                limits={"room1": 1, "room2": 1, "nurse": 1},
            )
            for d in range(10)
        },
        [
            request("a", latest=2, preferred=("10:00",)),
            request("b", latest=2),
            request("c", latest=2, preferred=("10:00",)),
        ],
        None,
    ),
    (
        "a later earliest start counts its days from there",
        TINY,
        one_room_days(10, ("09:00", "14:00")),
        [request("a", latest=1), request("b", earliest=1, latest=2)],
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "spacing", "days", "requests", "optimum"), CASES, ids=[c[0] for c in CASES]
)
def test_the_joint_plan_is_proven_optimal_on_small_cases(
    name: str,
    spacing: SeriesSpacing,
    days: dict[date, batch.Day],
    requests: list[batch.Request],
    optimum: int | None,
) -> None:
    expected = optimum if optimum is not None else brute_force(requests, days, spacing)
    assert expected is not None
    result = batch.plan_batch(requests, days, spacing, time_limit_s=20, workers=1)
    assert result.status == "optimal"
    assert result.objective == expected
    assert result.gap == 0.0
    assert cost(result.series, requests) == expected
    assert set(result.series) == {r.key for r in requests}
    for r in requests:
        visits = result.series[r.key]
        assert not check_series([d for d, _ in visits], spacing)
        assert r.earliest <= visits[0][0] <= r.latest_start
        assert result.finish_days[r.key] == (visits[-1][0] - r.earliest).days
    assert_within_capacity(result, days)
    assert result.visits == spacing.count * len(requests)


def test_when_capacity_is_short_nobody_gets_a_series() -> None:
    # One visit a day for three days: two patients need four.
    result = batch.plan_batch(
        [request("a", latest=6), request("b", latest=6)],
        one_room_days(3),
        TINY,
        time_limit_s=10,
        workers=1,
    )
    assert result.status == "infeasible"
    assert result.series == {}


def test_no_free_start_day_is_infeasible_at_once() -> None:
    days = one_room_days(21)
    result = batch.plan_batch(
        [request("a", earliest=30, latest=31)], days, SHORT, time_limit_s=5
    )
    assert result.status == "infeasible"


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="own key"):
        batch.plan_batch(
            [request("a"), request("a")], one_room_days(21), SHORT, time_limit_s=5
        )


def test_the_first_fit_keeps_spacing_and_capacity() -> None:
    days = one_room_days(40, ("09:00", "13:00"), limit=1)
    requests = [request(f"p{n}", latest=20) for n in range(8)]
    chosen = batch.greedy_batch(requests, days, INDUCTION_SPACING)
    assert chosen is not None
    used: dict[tuple[date, str], int] = {}
    for visits in chosen.values():
        assert not check_series([d for d, _ in visits], INDUCTION_SPACING)
        for day, label in visits:
            used[(day, label)] = used.get((day, label), 0) + 1
    assert max(used.values()) == 1


def test_a_larger_batch_is_planned_within_capacity_with_its_gap_reported() -> None:
    # 30 patients, two times a day in each of three rooms: capacity binds, so starts spread.
    days = one_room_days(60, ("08:00", "10:30"), limit=3)
    requests = [
        request(f"p{n}", latest=35, preferred=(("10:30",) if n % 2 else ()))
        for n in range(30)
    ]
    result = batch.plan_batch(requests, days, INDUCTION_SPACING, time_limit_s=8)
    assert result.status in ("optimal", "feasible")
    assert len(result.series) == 30
    assert_within_capacity(result, days)
    assert result.best_bound <= result.objective
    assert result.objective == cost(result.series, requests)
    for visits in result.series.values():
        assert not check_series([d for d, _ in visits], INDUCTION_SPACING)


def test_out_of_time_with_no_solution_the_first_fit_is_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A machine too busy for CP-SAT to confirm any solution in the time limit (seen at
    # load 20+): the solver's answer is forced to "unknown" and its hints are dropped, so
    # only the first fit is left. It is returned, valid and costed, with the LP bound.
    monkeypatch.setattr(
        cp_model.CpSolver, "solve", lambda self, model: cp_model.UNKNOWN
    )
    monkeypatch.setattr(cp_model.CpModel, "add_hint", lambda self, var, value: None)
    days = one_room_days(40, ("09:00", "13:00"), limit=2)
    requests = [
        request(f"p{n}", latest=20, preferred=(("13:00",) if n % 2 else ()))
        for n in range(6)
    ]

    result = batch.plan_batch(requests, days, INDUCTION_SPACING, time_limit_s=5)

    assert result.status == "feasible"
    assert result.series == batch.greedy_batch(requests, days, INDUCTION_SPACING)
    assert_within_capacity(result, days)
    assert result.objective == cost(result.series, requests)
    assert 0 < result.best_bound <= result.objective
    for visits in result.series.values():
        assert not check_series([d for d, _ in visits], INDUCTION_SPACING)
