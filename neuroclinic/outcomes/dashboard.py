"""Reads for the medical director's dashboard: response and remission at checkpoints,
time from remission to relapse, time from the series to the first booster, booster
intervals. Definitions are `summary.py`'s; figures `stats.py`'s.

Three ways to the same figures:
- `from_table` (the pages): sums the stored per-day counts (`EpisodeSummaryCount`) for
  the checkpoint rates and breakdowns by protocol, location, dose and diagnosis, and
  reads the Kaplan-Meier inputs from the stored episode summaries (`EpisodeSummaryRow`)
  grouped by duration; both tables are refreshed by `actions.summaries`. A fixed handful
  of queries for a reporting period; `figure_rows` gives the rows behind any one figure.
- `from_rows`: the same, counting the episode rows themselves (the definition the
  stored counts are checked against).
- `build` (the reference): recomputes every episode from the chart. Tests check that
  they agree; benchmarks/outcomes.py times them.
"""

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, F, Min, Q, Sum, When

from neuroclinic.clinics.models import Location
from neuroclinic.clinics.time_zone import clinic_zone_name
from neuroclinic.outcomes.boosters import effect_durations
from neuroclinic.outcomes.episodes import Episode, load_episodes
from neuroclinic.outcomes.models import EpisodeSummaryCount, EpisodeSummaryRow
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
    column: str = ""  # the stored table's column, named in links to the patients behind


def reporting_zone(organization_id: int) -> str:
    """The zone whose calendar days the reports count in: the clinic's (the zone of its
    first active location, the one staff pages activate and name), UTC without one."""
    return clinic_zone_name(organization_id) or "UTC"


@dataclass(frozen=True)
class Period:
    """A reporting period, whole days from `start` to `end` (both included) of the
    calendar in `zone` (the clinic's: `reporting_zone`; UTC by default).

    The dashboard counts episodes whose first infusion falls in it; each clinic rate
    (rates.py) counts by its own date (the request, the visit, the infusion).
    """

    start: date | None = None
    end: date | None = None
    zone: str = "UTC"

    def day_start(self, day: date) -> datetime:
        """The first instant of `day` in the period's zone (an aware time).

        Where clocks jump forward at midnight (a midnight that does not exist), fold 0
        reads it with the offset before the jump: the instant of the jump, the day's
        first instant.
        """
        return datetime.combine(day, time.min, ZoneInfo(self.zone))

    def query(self, field: str = "first_infusion_at") -> Q:
        """Rows whose time `field` falls on a day of the period in its zone.

        A half-open range of times (not a `__date` lookup), so that an index on the
        column serves it.
        """
        q = Q()
        if self.start:
            q &= Q(**{f"{field}__gte": self.day_start(self.start)})
        if self.end:
            q &= Q(**{f"{field}__lt": self.day_start(self.end + timedelta(days=1))})
        return q

    def days(self, field: str) -> Q:
        """Rows whose calendar date `field` falls in the period."""
        q = Q()
        if self.start:
            q &= Q(**{f"{field}__gte": self.start})
        if self.end:
            q &= Q(**{f"{field}__lte": self.end})
        return q


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
    by_dose: tuple["Group", ...] = ()
    by_diagnosis: tuple["Group", ...] = ()
    as_of: datetime | None = None
    period: Period = Period()


@dataclass(frozen=True)
class Group:
    """One protocol's, location's, dose's or diagnosis's episodes and their checkpoint rates."""

    label: str
    episodes: int
    checkpoints: tuple[Checkpoint, ...]
    key: str = ""  # the group's value in links to the patients behind ("" for none)


# Breakdowns: name -> (stored column, label when blank). Links name the column's value.
BREAKDOWNS = {
    "protocol": ("protocol_name", "—"),
    "location": ("location_id", "No location"),
    "dose": ("dose_mg_per_kg", "No signed induction order"),
    "diagnosis": ("diagnosis_code", "No ICD-10 code in the indication"),
}
MEASURES = ("scored", "response", "remission")


def summary_until(
    episode: Episode, code: str, until: datetime, window_days: int
) -> EpisodeSummary | None:
    scores = [s for s in episode.scores.get(code, []) if s.taken_at <= until]
    if not scores or scores[-1].taken_at < until - timedelta(days=window_days):
        return None
    summary = summarise(
        code, scores, first_infusion_at=episode.first_infusion_at, rules=episode.rules
    )
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


def checkpoint_aggregates() -> dict[str, Any]:
    aggregates: dict[str, Any] = {
        "episodes": Count("id"),
        "judged": Count(
            "id", filter=Q(baseline_total__isnull=False, latest_total__isnull=False)
        ),
    }
    for _label, column in CHECKPOINT_COLUMNS:
        aggregates[f"{column}_n"] = Count("id", filter=~Q(**{column: ""}))
        aggregates[f"{column}_resp"] = Count(
            "id",
            filter=Q(**{f"{column}__in": [Status.RESPONSE, Status.REMISSION]}),
        )
        aggregates[f"{column}_rem"] = Count(
            "id", filter=Q(**{column: Status.REMISSION})
        )
    return aggregates


def _checkpoints(values: dict[str, Any]) -> tuple[Checkpoint, ...]:
    return tuple(
        Checkpoint(
            label,
            Rate(label, values[f"{column}_resp"], values[f"{column}_n"]),
            Rate(label, values[f"{column}_rem"], values[f"{column}_n"]),
            column,
        )
        for label, column in CHECKPOINT_COLUMNS
    )


def _group(
    values: Mapping[str, Any], key: str, missing: str, label: str | None = None
) -> Group:
    row = dict(values)
    value = row[key]
    return Group(
        label or (str(value) if value not in (None, "") else missing),
        row["episodes"],
        _checkpoints(row),
        "" if value is None else str(value),
    )


def _dose_label(values: Mapping[str, Any]) -> str | None:
    dose = values["dose_mg_per_kg"]
    return f"{dose} mg/kg" if dose is not None else None


def summary_rows(
    organization_id: int, instrument_code: str, period: Period = Period()
) -> Any:
    """The stored rows the dashboard counts: episodes with an infusion, in the period."""
    return (
        EpisodeSummaryRow.objects.filter(
            organization_id=organization_id,
            instrument_code=instrument_code,
            first_infusion_at__isnull=False,
        )
        .filter(period.query())
        .order_by()
    )


def figure_rows(
    organization_id: int,
    *,
    instrument_code: str,
    period: Period,
    checkpoint: str,
    measure: str,
    by: str = "",
    key: str = "",
) -> Any:
    """The stored rows behind one dashboard figure (its patients), or ValueError.

    checkpoint: a CHECKPOINT_COLUMNS column; measure: scored, response or remission;
    by/key: a BREAKDOWNS name and the group's value ("" for the group without one).
    """
    columns = {c for _label, c in CHECKPOINT_COLUMNS}
    if checkpoint not in columns or measure not in MEASURES:
        raise ValueError("No such figure.")
    rows = summary_rows(organization_id, instrument_code, period)
    if measure == "scored":
        rows = rows.exclude(**{checkpoint: ""})
    elif measure == "response":
        rows = rows.filter(**{f"{checkpoint}__in": [Status.RESPONSE, Status.REMISSION]})
    else:
        rows = rows.filter(**{checkpoint: Status.REMISSION})
    if by:
        if by not in BREAKDOWNS:
            raise ValueError("No such breakdown.")
        column = BREAKDOWNS[by][0]
        if key == "":
            rows = rows.filter(
                Q(**{f"{column}__isnull": True})
                if column in ("location_id", "dose_mg_per_kg")
                else Q(**{column: ""})
            )
        elif column == "location_id":
            if not key.isdigit():
                raise ValueError("No such location.")
            rows = rows.filter(location_id=int(key))
        elif column == "dose_mg_per_kg":
            try:
                rows = rows.filter(dose_mg_per_kg=Decimal(key))
            except InvalidOperation:
                raise ValueError("No such dose.") from None
        else:
            rows = rows.filter(**{column: key})
    return rows


# Kaplan-Meier curves: name -> (title, the rows it counts, the rows with the event).
CURVES = {
    "relapse": (
        "Time from remission to relapse",
        Q(remission_to_relapse_days__isnull=False),
        Q(relapse_observed=True),
    ),
    "first_booster": (
        "Time from series end to first booster",
        Q(series_end_on__isnull=False),
        Q(series_to_booster_days__isnull=False),
    ),
}
CURVE_MEASURES = {
    "patients": "every episode on the curve",
    "events": "the episodes with the event",
    "censored": "the episodes without the event so far (censored)",
}


def curve_rows(
    organization_id: int,
    *,
    instrument_code: str,
    period: Period,
    curve: str,
    measure: str,
) -> Any:
    """The stored rows behind one Kaplan-Meier curve's count, or ValueError.

    curve: a CURVES name; measure: patients (the curve's "N patients", as `at_risk`),
    events (its "M events") or censored (the rest). The same conditions as `from_table`.
    """
    if curve not in CURVES or measure not in CURVE_MEASURES:
        raise ValueError("No such curve.")
    _title, counted, event = CURVES[curve]
    rows = summary_rows(organization_id, instrument_code, period).filter(counted)
    if measure == "events":
        rows = rows.filter(event)
    elif measure == "censored":
        rows = rows.exclude(event)
    return rows


def _weighted_curve(label: str, groups: dict[tuple[float, bool], int]) -> Curve:
    items = sorted(groups.items())
    return kaplan_meier(
        label,
        [days for (days, _seen), _n in items],
        [seen for (_days, seen), _n in items],
        weights=[n for _key, n in items],
    )


DIMENSIONS = ("protocol_name", "location_id", "dose_mg_per_kg", "diagnosis_code")


def _add(into: dict[str, Any], row: Mapping[str, Any], keys: list[str]) -> None:
    for k in keys:
        into[k] = into.get(k, 0) + (row[k] or 0)


def _last(value: Any) -> tuple[bool, Any]:
    """Sort key: blanks (None) after every value, as PostgreSQL orders NULLs."""
    return (value is None, value)


def grouped_rows(
    organization_id: int, instrument_code: str, period: Period = Period()
) -> list[dict[str, Any]]:
    """The period's summary rows grouped by every breakdown, with every checkpoint count.

    The definition: one aggregate over the episode rows themselves (`from_rows`, and
    `actions.summaries.recount` to fill the stored counts).
    """
    rows = summary_rows(organization_id, instrument_code, period)
    return list(
        rows.values(*DIMENSIONS)
        .annotate(
            **checkpoint_aggregates(),
            **{column: Sum(column) for column in INTERVAL_COLUMNS},
            as_of=Min("refreshed_at"),
        )
        .order_by()
    )


COUNTED = (*checkpoint_aggregates(), *INTERVAL_COLUMNS)


def grouped_counts(
    organization_id: int, instrument_code: str, period: Period = Period()
) -> list[dict[str, Any]] | None:
    """As `grouped_rows`, summed from the stored per-day counts (`EpisodeSummaryCount`),
    or None when the stored counts cannot answer for the period's zone.

    The period is whole days of the first infusion in the period's zone, as
    `Period.query`: a few thousand stored rows for a year of a large network instead of
    every episode. The counts hold the days of one zone, the clinic's when they were
    last counted (`time_zone`); after the clinic's zone changed (or before the first
    recount in the clinic's zone) they are days of another calendar, and None sends the
    caller to the rows themselves until the next refresh counts them again (not for all
    time, which has no day edges: every day's counts add up the same). Seen from
    the groups read (grouped by zone too: no extra query), or, when the period has no
    stored count at all, from whether any episode row falls in it (one index probe).
    """
    groups = list(
        EpisodeSummaryCount.objects.filter(
            organization_id=organization_id, instrument_code=instrument_code
        )
        .filter(period.days("first_infusion_on"))
        .values(*DIMENSIONS, "time_zone")
        .annotate(
            # Aliases may not repeat a column's name; renamed below.
            **{f"sum_{column}": Sum(column) for column in COUNTED},
            oldest=Min("as_of"),
        )
        .order_by()
    )
    if period.start or period.end:  # all time has no day edges: any zone's days do
        if any(g["time_zone"] != period.zone for g in groups):
            return None
        if (
            not groups
            and summary_rows(organization_id, instrument_code, period).exists()
        ):
            return None
    return [
        {
            **{d: g[d] for d in DIMENSIONS},
            **{column: g[f"sum_{column}"] for column in COUNTED},
            "as_of": g["oldest"],
        }
        for g in groups
    ]


def from_rows(
    organization_id: int,
    *,
    today: date,
    instrument_code: str = "phq9",
    period: Period = Period(),
) -> Dashboard:
    """The dashboard counted from the episode rows themselves (the definition `from_table`
    is checked against; slower at scale)."""
    return _dashboard(
        organization_id,
        grouped_rows(organization_id, instrument_code, period),
        today=today,
        instrument_code=instrument_code,
        period=period,
    )


def from_table(
    organization_id: int,
    *,
    today: date,
    instrument_code: str = "phq9",
    period: Period = Period(),
) -> Dashboard:
    """The dashboard from the stored tables (what the page shows): three small reads.

    The checkpoint rates and every breakdown are sums of the stored per-day counts
    (`grouped_counts`: protocol x location x dose x diagnosis per day); the two
    Kaplan-Meier inputs are grouped by duration from the episode rows. Location names:
    one small query. The same figures as `from_rows` (tests compare them); while the
    stored counts are of another zone's days (`grouped_counts`), it counts the rows.
    """
    groups = grouped_counts(organization_id, instrument_code, period)
    if groups is None:  # counts of another zone's days: count the rows instead
        groups = grouped_rows(organization_id, instrument_code, period)
    return _dashboard(
        organization_id,
        groups,
        today=today,
        instrument_code=instrument_code,
        period=period,
    )


def _dashboard(
    organization_id: int,
    groups: list[dict[str, Any]],
    *,
    today: date,
    instrument_code: str,
    period: Period,
) -> Dashboard:
    rows = summary_rows(organization_id, instrument_code, period)
    aggregates = checkpoint_aggregates()
    counted = list(COUNTED)
    totals: dict[str, Any] = dict.fromkeys(counted, 0)
    by: dict[str, dict[Any, dict[str, Any]]] = {d: {} for d in DIMENSIONS}
    as_of: datetime | None = None
    for g in groups:
        _add(totals, g, counted)
        for d in DIMENSIONS:
            group = by[d].setdefault(g[d], {d: g[d]})
            _add(group, g, list(aggregates))
        if g["as_of"] is not None and (as_of is None or g["as_of"] < as_of):
            as_of = g["as_of"]
    names = dict(
        Location.objects.filter(pk__in=[k for k in by["location_id"] if k]).values_list(
            "pk", "name"
        )
    )
    by_protocol = tuple(
        _group(v, "protocol_name", "—") for _k, v in sorted(by["protocol_name"].items())
    )
    by_location = tuple(
        _group(v, "location_id", "No location", names.get(k))
        for k, v in sorted(
            by["location_id"].items(),
            key=lambda kv: (_last(names.get(kv[0])), _last(kv[0])),
        )
    )
    by_dose = tuple(
        _group(v, "dose_mg_per_kg", BREAKDOWNS["dose"][1], _dose_label(v))
        for _k, v in sorted(by["dose_mg_per_kg"].items(), key=lambda kv: _last(kv[0]))
    )
    by_diagnosis = tuple(
        _group(v, "diagnosis_code", BREAKDOWNS["diagnosis"][1])
        for _k, v in sorted(by["diagnosis_code"].items())
    )
    relapse: dict[tuple[float, bool], int] = {}
    for days, seen, n in (
        rows.filter(remission_to_relapse_days__isnull=False)
        .values_list("remission_to_relapse_days", "relapse_observed")
        .annotate(n=Count("*"))  # not Count("id"): the index alone answers
        .order_by()
    ):
        relapse[(float(days), bool(seen))] = n
    # Boosted: grouped by the stored duration; not yet: by the dates censoring counts from.
    first_booster: dict[tuple[float, bool], int] = defaultdict(int)
    not_yet = Q(series_to_booster_days__isnull=True)
    for days, series_end, ended_on, n in (
        rows.filter(series_end_on__isnull=False)
        .annotate(
            censored_from=Case(When(not_yet, then=F("series_end_on"))),
            censored_until=Case(When(not_yet, then=F("plan_ended_on"))),
        )
        .values_list("series_to_booster_days", "censored_from", "censored_until")
        .annotate(n=Count("*"))
        .order_by()
    ):
        if days is not None:
            first_booster[(float(days), True)] += n
        else:
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
        by_dose=by_dose,
        by_diagnosis=by_diagnosis,
        as_of=as_of,
        period=period,
    )
