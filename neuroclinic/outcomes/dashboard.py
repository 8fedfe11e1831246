"""Reads for the medical director's dashboard: response and remission at checkpoints,
time from remission to relapse, time from the series to the first booster, booster
intervals. Definitions are `summary.py`'s; figures `stats.py`'s.

Two ways to the same figures:
- `from_table` (the pages): aggregates the stored episode summaries
  (`EpisodeSummaryRow`, refreshed by `actions.summaries`) in SQL, a fixed handful of
  queries whose rows do not grow with the clinic (Kaplan-Meier inputs are grouped by
  duration and weighted), with breakdowns by protocol and location.
- `build` (the reference): recomputes every episode from the chart. Tests check that
  both agree; benchmarks/outcomes.py times both.
"""

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q, Sum

from neuroclinic.outcomes.boosters import effect_durations
from neuroclinic.outcomes.episodes import Episode, load_episodes
from neuroclinic.outcomes.models import EpisodeSummaryRow
from neuroclinic.outcomes.stats import Curve, Rate, kaplan_meier
from neuroclinic.outcomes.summary import EpisodeSummary, Status, summarise
from neuroclinic.treatment.models import TreatmentPlan

DASHBOARD_INSTRUMENTS = ("phq9", "qids-sr16", "madrs")

CHECKPOINT_WEEKS = (4, 8, 12, 26)
CHECKPOINT_WINDOW_DAYS = (
    14  # a checkpoint counts the last score in the 14 days before it
)
END_OF_SERIES_GRACE_DAYS = 7
INTERVAL_BANDS = (
    (0, 21, "under 3 weeks"),
    (21, 28, "3-4 weeks"),
    (28, 35, "4-5 weeks"),
    (35, 42, "5-6 weeks"),
    (42, 56, "6-8 weeks"),
    (56, 10**6, "8 weeks or more"),
)
# The stored table's column for each band above.
INTERVAL_COLUMNS = dict(
    zip(
        (
            "intervals_under_3w",
            "intervals_3_4w",
            "intervals_4_5w",
            "intervals_5_6w",
            "intervals_6_8w",
            "intervals_8w_plus",
        ),
        INTERVAL_BANDS,
        strict=True,
    )
)
CHECKPOINT_COLUMNS = (
    ("End of series", "at_end_of_series"),
    *tuple((f"Week {weeks}", f"at_week_{weeks}") for weeks in CHECKPOINT_WEEKS),
)


@dataclass(frozen=True)
class Checkpoint:
    label: str
    response: Rate
    remission: Rate


@dataclass(frozen=True)
class Dashboard:
    instrument_code: str
    episodes: int
    judged: int
    checkpoints: tuple[Checkpoint, ...]
    relapse: Curve
    first_booster: Curve
    intervals: tuple[tuple[str, int], ...]
    by_protocol: tuple["Group", ...] = ()
    by_location: tuple["Group", ...] = ()
    as_of: datetime | None = None


@dataclass(frozen=True)
class Group:
    """One protocol's or location's episodes and their checkpoint rates."""

    label: str
    episodes: int
    checkpoints: tuple[Checkpoint, ...]


def summary_until(
    episode: Episode, code: str, until: datetime, window_days: int
) -> EpisodeSummary | None:
    scores = [s for s in episode.scores.get(code, []) if s.taken_at <= until]
    if not scores or scores[-1].taken_at < until - timedelta(days=window_days):
        return None
    summary = summarise(code, scores, first_infusion_at=episode.first_infusion_at)
    if summary.status in (
        Status.NO_BASELINE,
        Status.ZERO_BASELINE,
        Status.NO_FOLLOW_UP,
    ):
        return None
    return summary


def _rates(label: str, summaries: list[EpisodeSummary]) -> Checkpoint:
    n = len(summaries)
    responded = sum(
        1 for s in summaries if s.status in (Status.RESPONSE, Status.REMISSION)
    )
    remitted = sum(1 for s in summaries if s.status is Status.REMISSION)
    return Checkpoint(label, Rate(label, responded, n), Rate(label, remitted, n))


def build(
    plans: list[TreatmentPlan], *, today: date, instrument_code: str = "phq9"
) -> Dashboard:
    episodes = [
        e
        for e in load_episodes(plans, instrument_codes=[instrument_code])
        if e.first_infusion_at
    ]
    checkpoints = []
    end_of_series = []
    for e in episodes:
        if e.plan.induction_completed_at:
            until = e.plan.induction_completed_at + timedelta(
                days=END_OF_SERIES_GRACE_DAYS
            )
            s = summary_until(e, instrument_code, until, END_OF_SERIES_GRACE_DAYS + 3)
            if s:
                end_of_series.append(s)
    checkpoints.append(_rates("End of series", end_of_series))
    for weeks in CHECKPOINT_WEEKS:
        found = []
        for e in episodes:
            assert e.first_infusion_at is not None
            until = e.first_infusion_at + timedelta(weeks=weeks)
            s = summary_until(e, instrument_code, until, CHECKPOINT_WINDOW_DAYS)
            if s:
                found.append(s)
        checkpoints.append(_rates(f"Week {weeks}", found))

    relapse_days: list[float] = []
    relapse_seen: list[bool] = []
    booster_days: list[float] = []
    booster_seen: list[bool] = []
    intervals: Counter[str] = Counter()
    judged = 0
    for e in episodes:
        s = e.summary(instrument_code)
        if s.baseline and s.latest:
            judged += 1
        if s.remission_on and s.latest:
            after = [d for d in s.relapses if d >= s.remission_on]
            end = after[0] if after else s.latest.taken_at.date()
            relapse_days.append(float((end - s.remission_on).days))
            relapse_seen.append(bool(after))
        if e.plan.induction_completed_at:
            series_end = e.plan.induction_completed_at.date()
            first = next((d for d in e.booster_dates if d >= series_end), None)
            stop = e.plan.ended_at.date() if e.plan.ended_at else today
            booster_days.append(float(((first or stop) - series_end).days))
            booster_seen.append(first is not None)
        for days in effect_durations(e.booster_dates):
            band = next(
                label for low, high, label in INTERVAL_BANDS if low <= days < high
            )
            intervals[band] += 1
    return Dashboard(
        instrument_code=instrument_code,
        episodes=len(episodes),
        judged=judged,
        checkpoints=tuple(checkpoints),
        relapse=kaplan_meier("Remission to relapse", relapse_days, relapse_seen),
        first_booster=kaplan_meier(
            "Series end to first booster", booster_days, booster_seen
        ),
        intervals=tuple((label, intervals[label]) for _, _, label in INTERVAL_BANDS),
    )


def _checkpoint_aggregates() -> dict[str, Any]:
    aggregates: dict[str, Any] = {
        "episodes": Count("id"),
        "judged": Count(
            "id", filter=Q(baseline_total__isnull=False, latest_total__isnull=False)
        ),
    }
    for _label, column in CHECKPOINT_COLUMNS:
        aggregates[f"{column}__n"] = Count("id", filter=~Q(**{column: ""}))
        aggregates[f"{column}__resp"] = Count(
            "id",
            filter=Q(**{f"{column}__in": [Status.RESPONSE, Status.REMISSION]}),
        )
        aggregates[f"{column}__rem"] = Count(
            "id", filter=Q(**{column: Status.REMISSION})
        )
    return aggregates


def _checkpoints(values: dict[str, Any]) -> tuple[Checkpoint, ...]:
    return tuple(
        Checkpoint(
            label,
            Rate(label, values[f"{column}__resp"], values[f"{column}__n"]),
            Rate(label, values[f"{column}__rem"], values[f"{column}__n"]),
        )
        for label, column in CHECKPOINT_COLUMNS
    )


def _group(values: Mapping[str, Any], key: str, missing: str) -> Group:
    row = dict(values)
    return Group(row[key] or missing, row["episodes"], _checkpoints(row))


def _weighted_curve(label: str, groups: dict[tuple[float, bool], int]) -> Curve:
    items = sorted(groups.items())
    return kaplan_meier(
        label,
        [days for (days, _seen), _n in items],
        [seen for (_days, seen), _n in items],
        weights=[n for _key, n in items],
    )


def from_table(
    organization_id: int, *, today: date, instrument_code: str = "phq9"
) -> Dashboard:
    """The dashboard from the stored episode summaries: eight aggregate queries."""
    rows = EpisodeSummaryRow.objects.filter(
        organization_id=organization_id,
        instrument_code=instrument_code,
        first_infusion_at__isnull=False,
    ).order_by()
    aggregates = _checkpoint_aggregates()
    totals = rows.aggregate(
        **aggregates,
        **{column: Sum(column) for column in INTERVAL_COLUMNS},
        as_of=Min("refreshed_at"),
    )
    by_protocol = tuple(
        _group(v, "protocol_name", "—")
        for v in rows.values("protocol_name")
        .annotate(**aggregates)
        .order_by("protocol_name")
    )
    by_location = tuple(
        _group(v, "location__name", "No location")
        for v in rows.values("location__name")
        .annotate(**aggregates)
        .order_by("location__name")
    )
    relapse: dict[tuple[float, bool], int] = {}
    for days, seen, n in (
        rows.filter(remission_to_relapse_days__isnull=False)
        .values_list("remission_to_relapse_days", "relapse_observed")
        .annotate(n=Count("id"))
    ):
        relapse[(float(days), bool(seen))] = n
    first_booster: dict[tuple[float, bool], int] = defaultdict(int)
    for series_end, booster_on, n in (
        rows.filter(series_end_on__isnull=False, first_booster_on__isnull=False)
        .values_list("series_end_on", "first_booster_on")
        .annotate(n=Count("id"))
    ):
        first_booster[(float((booster_on - series_end).days), True)] += n
    for series_end, ended_on, n in (
        rows.filter(series_end_on__isnull=False, first_booster_on__isnull=True)
        .values_list("series_end_on", "plan_ended_on")
        .annotate(n=Count("id"))
    ):
        first_booster[(float(((ended_on or today) - series_end).days), False)] += n
    return Dashboard(
        instrument_code=instrument_code,
        episodes=totals["episodes"],
        judged=totals["judged"],
        checkpoints=_checkpoints(totals),
        relapse=_weighted_curve("Remission to relapse", relapse),
        first_booster=_weighted_curve("Series end to first booster", first_booster),
        intervals=tuple(
            (label, totals[column] or 0)
            for column, (_low, _high, label) in INTERVAL_COLUMNS.items()
        ),
        by_protocol=by_protocol,
        by_location=by_location,
        as_of=totals["as_of"],
    )
