"""Writes: the stored episode summaries (`EpisodeSummaryRow`), rebuilt from the chart.

The table is derived: each refresh deletes a patient's rows and writes them again from
their plans, scores and infusions (`episodes.load_episodes`, `summary.summarise`), so
a refresh is idempotent and a lost row comes back on the next run.

- `refresh_patients(organization, patient_ids)`: the rows of those patients.
- `refresh_changed(organization)`: the patients whose scores, plans or infusions changed
  since the watermark (run every ten minutes), then the watermark moves on; and every
  count again if the stored counts are days of another zone than the clinic's.
- `refresh_all(organization)`: every patient, in chunks (the daily job; checkpoints move
  with the calendar, so every row is recomputed once a day).

No audit event: the refresh is the system rewriting a cache of figures it already
holds; every person's read of the rows (dashboard, portal) is audited where it happens.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.outcomes.boosters import effect_durations
from neuroclinic.outcomes.dashboard import (
    CHECKPOINT_WEEKS,
    CHECKPOINT_WINDOW_DAYS,
    COUNTED,
    DASHBOARD_INSTRUMENTS,
    DIMENSIONS,
    END_OF_SERIES_GRACE_DAYS,
    INTERVAL_COLUMNS,
    Period,
    checkpoint_aggregates,
    reporting_zone,
    summary_until,
)
from neuroclinic.outcomes.deid import ICD10_PATTERN
from neuroclinic.outcomes.episodes import Episode, load_episodes
from neuroclinic.outcomes.models import (
    EpisodeSummaryCount,
    EpisodeSummaryRow,
    SummaryWatermark,
)
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

CHUNK_PATIENTS = 2000
# Changes are looked for from a little before the watermark: a row committed late by a
# transaction that began before the last refresh is still seen.
OVERLAP = timedelta(minutes=5)
# A recount of more days than this counts every day between the first and the last.
RECOUNT_SPAN_DAYS = 31
COUNTS_LOCK = 110011  # the advisory lock's first key: the stored counts (issue 11)


def rows_for(
    episode: Episode,
    *,
    location_id: int | None,
    now: datetime,
    dose_mg_per_kg: Decimal | None = None,
) -> list[EpisodeSummaryRow]:
    """The rows of one episode: one per instrument it has scores for, and the dashboard's."""
    plan = episode.plan
    rows = []
    for code in sorted(set(DASHBOARD_INSTRUMENTS) | set(episode.scores)):
        s = episode.summary(code)
        checkpoints: dict[str, str] = {}
        if episode.first_infusion_at is not None:
            if plan.induction_completed_at:
                until = plan.induction_completed_at + timedelta(
                    days=END_OF_SERIES_GRACE_DAYS
                )
                found = summary_until(
                    episode, code, until, END_OF_SERIES_GRACE_DAYS + 3
                )
                checkpoints["at_end_of_series"] = found.status if found else ""
            for weeks in CHECKPOINT_WEEKS:
                until = episode.first_infusion_at + timedelta(weeks=weeks)
                found = summary_until(episode, code, until, CHECKPOINT_WINDOW_DAYS)
                checkpoints[f"at_week_{weeks}"] = found.status if found else ""
        relapse_days = None
        relapse_observed = False
        if s.remission_on and s.latest:
            after = [d for d in s.relapses if d >= s.remission_on]
            end = after[0] if after else s.latest.taken_at.date()
            relapse_days = (end - s.remission_on).days
            relapse_observed = bool(after)
        series_end: date | None = None
        first_booster: date | None = None
        if plan.induction_completed_at:
            series_end = plan.induction_completed_at.date()
            first_booster = next(
                (d for d in episode.booster_dates if d >= series_end), None
            )
        bands = dict.fromkeys(INTERVAL_COLUMNS, 0)
        for days in effect_durations(episode.booster_dates):
            bands[_band(days)] += 1
        rows.append(
            EpisodeSummaryRow(
                organization_id=plan.organization_id,
                patient_id=plan.patient_id,
                plan=plan,
                instrument_code=code,
                protocol_name=plan.induction_protocol.name,
                location_id=location_id,
                first_infusion_at=episode.first_infusion_at,
                dose_mg_per_kg=dose_mg_per_kg,
                diagnosis_code=first_icd10_code(plan.indication),
                status=s.status.value,
                baseline_total=s.baseline.total if s.baseline else None,
                nadir_total=s.nadir.total if s.nadir else None,
                latest_total=s.latest.total if s.latest else None,
                latest_at=s.latest.taken_at if s.latest else None,
                change_percent=s.change_percent,
                response_on=s.response_on,
                remission_on=s.remission_on,
                relapse_on=s.relapse_on,
                remission_to_relapse_days=relapse_days,
                relapse_observed=relapse_observed,
                series_end_on=series_end,
                first_booster_on=first_booster,
                series_to_booster_days=(
                    (first_booster - series_end).days
                    if first_booster and series_end
                    else None
                ),
                plan_ended_on=plan.ended_at.date() if plan.ended_at else None,
                refreshed_at=now,
                **checkpoints,
                **bands,
            )
        )
    return rows


def first_icd10_code(indication: str) -> str:
    """The first ICD-10 code in a plan's free-text indication ("" if none): its diagnosis."""
    found = ICD10_PATTERN.search(indication.upper())
    return found.group(1) if found else ""


def _band(days: int) -> str:
    for column, (low, high, _label) in INTERVAL_COLUMNS.items():
        if low <= days < high:
            return column
    raise ValueError(f"no interval band for {days} days")


def refresh_patients(
    organization_id: int, patient_ids: Iterable[int], *, recount: bool = True
) -> int:
    """Rewrite the summary rows of these patients; returns the number of rows written.

    With `recount` (the default), the stored per-day counts of the days their rows
    were and are on are counted again in the same transaction as each chunk's rows;
    `refresh_all` passes False and counts every day once at the end.
    """
    ids = sorted(set(patient_ids))
    written = 0
    for start in range(0, len(ids), CHUNK_PATIENTS):
        chunk = ids[start : start + CHUNK_PATIENTS]
        written += _refresh_chunk(organization_id, chunk, recount_days=recount)
    return written


def _local_day(at: datetime, zone: str) -> date:
    return at.astimezone(ZoneInfo(zone)).date()


def recount(
    organization_id: int, days: Iterable[date] | None = None, *, zone: str = ""
) -> int:
    """Count the stored episode rows again into `EpisodeSummaryCount`: those whose first
    infusion falls on `days`, or every day (None). Returns the count rows written.

    Days are the calendar's of `zone` ("" for the clinic's, `dashboard.reporting_zone`).
    If any stored count of the clinic is a day of another zone (its zone changed, or
    the counts predate local days), every day is counted again, so that a clinic's
    counts are always of one zone.

    The counts are `dashboard.grouped_rows`'s aggregate, grouped also by the day; the
    dashboard sums them over the reporting period's days.
    """
    zone = zone or reporting_zone(organization_id)
    tz = ZoneInfo(zone)
    with transaction.atomic():
        _lock_counts(organization_id)  # before reading: see the other's rows
        rows = EpisodeSummaryRow.objects.filter(
            organization_id=organization_id, first_infusion_at__isnull=False
        )
        counts = EpisodeSummaryCount.objects.filter(organization_id=organization_id)
        if days is not None and counts.exclude(time_zone=zone).exists():
            days = None  # counts of another calendar: all of them again
        if days is not None:
            wanted = sorted(set(days))
            if not wanted:
                return 0
            if len(wanted) > RECOUNT_SPAN_DAYS:
                # Many days (a large chunk): every day between the first and the last.
                rows = rows.filter(Period(wanted[0], wanted[-1], zone).query())
                counts = counts.filter(first_infusion_on__range=(wanted[0], wanted[-1]))
            else:
                within = Q()
                for day in wanted:
                    within |= Period(day, day, zone).query()
                rows = rows.filter(within)
                counts = counts.filter(first_infusion_on__in=wanted)
        grouped = (
            rows.annotate(day=TruncDate("first_infusion_at", tzinfo=tz))
            .values("instrument_code", "day", *DIMENSIONS)
            .annotate(
                **checkpoint_aggregates(),
                **{column: Sum(column) for column in INTERVAL_COLUMNS},
                as_of=Min("refreshed_at"),
            )
            .order_by()
        )
        made = [
            EpisodeSummaryCount(
                organization_id=organization_id,
                instrument_code=g["instrument_code"],
                first_infusion_on=g["day"],
                time_zone=zone,
                as_of=g["as_of"],
                **{d: g[d] for d in DIMENSIONS},
                **{column: g[column] or 0 for column in COUNTED},
            )
            for g in grouped
        ]
        counts.delete()
        EpisodeSummaryCount.objects.bulk_create(made, batch_size=2000)
    return len(made)


def _lock_counts(organization_id: int) -> None:
    """One recount of a clinic's counts at a time (PostgreSQL; SQLite has one writer).

    Without it two refreshes could each delete a day's counts, miss the other's
    uncommitted rows and both insert theirs: the day counted twice. The lock is held to
    the end of the transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [COUNTS_LOCK, organization_id],
            )


def _refresh_chunk(
    organization_id: int, patient_ids: Sequence[int], *, recount_days: bool = True
) -> int:
    now = timezone.now()
    plans = list(
        TreatmentPlan.objects.filter(
            organization_id=organization_id, patient_id__in=patient_ids
        ).select_related("induction_protocol")
    )
    first_location: dict[int, int] = {}
    for plan_id, location_id in (
        InfusionSession.objects.filter(
            plan_id__in=[p.pk for p in plans], started_at__isnull=False
        )
        .order_by("plan_id", "-started_at")
        .values_list("plan_id", "location_id")
    ):
        first_location[plan_id] = location_id  # the last one written is the earliest
    first_dose: dict[int, Decimal] = {}
    for plan_id, dose in (
        InfusionOrder.objects.filter(
            plan_id__in=[p.pk for p in plans],
            kind=InfusionOrder.Kind.INDUCTION,
            signed_at__isnull=False,
        )
        .order_by("plan_id", "-signed_at", "-id")
        .values_list("plan_id", "dose_mg_per_kg")
    ):
        first_dose[plan_id] = dose  # the last one written is the first signed
    rows = [
        row
        for episode in load_episodes(plans)
        for row in rows_for(
            episode,
            location_id=first_location.get(episode.plan.pk),
            now=now,
            dose_mg_per_kg=first_dose.get(episode.plan.pk),
        )
    ]
    zone = reporting_zone(organization_id)
    with transaction.atomic():
        old = EpisodeSummaryRow.objects.filter(
            organization_id=organization_id, patient_id__in=patient_ids
        )
        days = {
            _local_day(at, zone)
            for at in old.order_by()
            .values_list("first_infusion_at", flat=True)
            .distinct()
            if at is not None
        }
        old.delete()
        EpisodeSummaryRow.objects.bulk_create(rows, batch_size=2000)
        if recount_days:
            days |= {
                _local_day(r.first_infusion_at, zone)
                for r in rows
                if r.first_infusion_at
            }
            recount(organization_id, days, zone=zone)
    return len(rows)


def changed_patients(organization_id: int, since: datetime) -> set[int]:
    """Patients with a new score, a plan made, completed or ended, or an infusion started."""
    after = since - OVERLAP
    found: set[int] = set(
        QuestionnaireResponse.objects.filter(
            organization_id=organization_id, created_at__gte=after
        ).values_list("patient_id", flat=True)
    )
    found |= set(
        TreatmentPlan.objects.filter(organization_id=organization_id)
        .filter(
            Q(created_at__gte=after)
            | Q(induction_completed_at__gte=after)
            | Q(ended_at__gte=after)
        )
        .values_list("patient_id", flat=True)
    )
    found |= set(
        InfusionSession.objects.filter(organization_id=organization_id)
        .filter(Q(started_at__gte=after) | Q(ended_at__gte=after))
        .values_list("patient_id", flat=True)
    )
    return found


def refresh_changed(organization: Organization) -> int:
    """Refresh the patients changed since the watermark (all of them the first time)."""
    started = timezone.now()
    mark = SummaryWatermark.objects.filter(organization=organization).first()
    if mark is None:
        return refresh_all(organization)
    written = refresh_patients(
        organization.pk, changed_patients(organization.pk, mark.changes_through)
    )
    # No days of its own: counts all again only if they are of another zone's days.
    recount(organization.pk, [])
    SummaryWatermark.objects.filter(pk=mark.pk).update(changes_through=started)
    return written


def refresh_all(organization: Organization) -> int:
    """Every patient with a plan (the daily job: checkpoints move with the calendar)."""
    started = timezone.now()
    patient_ids = set(
        TreatmentPlan.objects.filter(organization=organization).values_list(
            "patient_id", flat=True
        )
    )
    written = refresh_patients(organization.pk, patient_ids, recount=False)
    # Rows of patients who no longer have a plan here (none today: plans are never deleted).
    EpisodeSummaryRow.objects.filter(organization=organization).exclude(
        patient_id__in=TreatmentPlan.objects.filter(organization=organization).values(
            "patient_id"
        )
    ).delete()
    recount(organization.pk)
    SummaryWatermark.objects.update_or_create(
        organization=organization,
        defaults={"changes_through": started, "full_refresh_at": started},
    )
    tidy_table()
    return written


def tidy_table() -> None:
    """After a full rebuild: planner statistics, and on PostgreSQL the dead rows cleared.

    Every row was deleted and written again, so until autovacuum comes round the table
    holds each row twice (the dashboard's scans read both) and the planner's row counts
    are stale (it then sorts where it should hash). VACUUM cannot run in a transaction:
    inside one (tests), ANALYZE alone.
    """
    for model in (EpisodeSummaryRow, EpisodeSummaryCount):
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                cursor.execute(f"VACUUM (ANALYZE) {table}")
            else:
                cursor.execute(f"ANALYZE {table}")
