"""Reads: the clinic's operational rates for the director's dashboard (issue #11, item 4).

- The funnel from consult request to completed series: of the consult requests, how
  many were converted to a patient, have a treatment plan, a first infusion, a
  completed induction series (each step counts requests whose patient reached it).
- No-show rate: of the appointments whose time has passed and that were either checked
  in or marked a no-show, the share marked a no-show (from the scheduling app), overall
  and by appointment type. Cancelled and still-booked visits are not counted.
- Adverse events per 100 infusions given, by kind.
- Dissociation (CADSS-6 total, taken during or after the infusion) by infusion number of
  the induction series: count, mean and range.

Each is one or two aggregate queries, whatever the clinic's size. Counts only: no
patient is named here.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Exists, Max, Min, OuterRef, Q
from django.utils import timezone

from neuroclinic.infusions.models import (
    AdverseEvent,
    InfusionSession,
    SessionQuestionnaire,
)
from neuroclinic.intake.models import ConsultRequest
from neuroclinic.outcomes.episodes import GIVEN_STATUSES
from neuroclinic.outcomes.stats import Rate
from neuroclinic.scheduling.models import Appointment
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

CADSS_CODE = "cadss6"


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    of_requests: Rate


@dataclass(frozen=True)
class PerHundred:
    label: str
    events: int
    infusions: int

    @property
    def per_100(self) -> Decimal | None:
        if not self.infusions:
            return None
        return (Decimal(self.events) * 100 / self.infusions).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


@dataclass(frozen=True)
class CadssRow:
    infusion_number: int
    count: int
    mean: Decimal
    lowest: int
    highest: int


@dataclass(frozen=True)
class ClinicRates:
    funnel: tuple[FunnelStep, ...]
    no_show: Rate
    no_show_by_type: tuple[Rate, ...]
    infusions_given: int
    adverse_events: tuple[PerHundred, ...]
    cadss: tuple[CadssRow, ...]


def funnel(organization_id: int) -> tuple[FunnelStep, ...]:
    plans = TreatmentPlan.objects.filter(patient_id=OuterRef("patient_id"))
    given = InfusionSession.objects.filter(
        patient_id=OuterRef("patient_id"), status__in=GIVEN_STATUSES
    )
    counts = (
        ConsultRequest.objects.filter(organization_id=organization_id)
        .order_by()
        .aggregate(
            requests=Count("id"),
            converted=Count("id", filter=Q(patient__isnull=False)),
            planned=Count("id", filter=Q(Exists(plans))),
            infused=Count("id", filter=Q(Exists(given))),
            completed=Count(
                "id",
                filter=Q(Exists(plans.filter(induction_completed_at__isnull=False))),
            ),
        )
    )
    total = counts["requests"]
    steps = (
        ("Consult requested", "requests"),
        ("Became a patient", "converted"),
        ("Treatment plan made", "planned"),
        ("First infusion given", "infused"),
        ("Induction series completed", "completed"),
    )
    return tuple(
        FunnelStep(label, counts[key], Rate(label, counts[key], total))
        for label, key in steps
    )


def no_shows(organization_id: int) -> tuple[Rate, tuple[Rate, ...]]:
    rows = list(
        Appointment.objects.filter(
            organization_id=organization_id,
            starts_at__lt=timezone.now(),
            status__in=[Appointment.Status.CHECKED_IN, Appointment.Status.NO_SHOW],
        )
        .order_by()
        .values("appointment_type__name")
        .annotate(
            n=Count("id"),
            missed=Count("id", filter=Q(status=Appointment.Status.NO_SHOW)),
        )
        .order_by("appointment_type__name")
    )
    by_type = tuple(
        Rate(r["appointment_type__name"], r["missed"], r["n"]) for r in rows
    )
    overall = Rate(
        "All visits", sum(r.count for r in by_type), sum(r.total for r in by_type)
    )
    return overall, by_type


def adverse_events(organization_id: int) -> tuple[int, tuple[PerHundred, ...]]:
    infusions = InfusionSession.objects.filter(
        organization_id=organization_id, status__in=GIVEN_STATUSES
    ).count()
    by_kind = dict(
        AdverseEvent.objects.filter(
            session__organization_id=organization_id,
            session__status__in=GIVEN_STATUSES,
        )
        .order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
    )
    return infusions, tuple(
        PerHundred(label, by_kind.get(kind, 0), infusions)
        for kind, label in AdverseEvent.Kind.choices
    )


def cadss_by_infusion_number(organization_id: int) -> tuple[CadssRow, ...]:
    rows = (
        SessionQuestionnaire.objects.filter(
            session__organization_id=organization_id,
            session__order__kind=InfusionOrder.Kind.INDUCTION,
            response__instrument_code=CADSS_CODE,
            response__amended_by__isnull=True,
            response__total__isnull=False,
        )
        .order_by()
        .values("session__sequence_number")
        .annotate(
            n=Count("id"),
            mean=Avg("response__total"),
            lowest=Min("response__total"),
            highest=Max("response__total"),
        )
        .order_by("session__sequence_number")
    )
    return tuple(
        CadssRow(
            infusion_number=r["session__sequence_number"],
            count=r["n"],
            mean=Decimal(str(r["mean"])).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            ),
            lowest=r["lowest"],
            highest=r["highest"],
        )
        for r in rows
    )


def clinic_rates(organization_id: int) -> ClinicRates:
    overall, by_type = no_shows(organization_id)
    infusions, events = adverse_events(organization_id)
    return ClinicRates(
        funnel=funnel(organization_id),
        no_show=overall,
        no_show_by_type=by_type,
        infusions_given=infusions,
        adverse_events=events,
        cadss=cadss_by_infusion_number(organization_id),
    )
