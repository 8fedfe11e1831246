"""Reads: the clinic's operational rates for the director's dashboard (issue #11, item 4).

- The funnel from consult request to completed series: of the consult requests made in
  the period, how many were converted to a patient, have a treatment plan, a first
  infusion, a completed induction series (each step counts requests whose patient
  reached it, whenever they reached it).
- No-show rate: of the appointments in the period whose time has passed and that were
  either checked in or marked a no-show, the share marked a no-show (from the scheduling
  app), overall and by appointment type. Cancelled and still-booked visits are not counted.
- Adverse events per 100 infusions given in the period, by kind.
- Dissociation (CADSS-6 total, taken during or after the infusion) by infusion number of
  the induction series, for infusions in the period: count, mean and range.

The reporting period (`dashboard.Period`) applies to each figure by its own date: the
request's (UTC), the visit's start (UTC), the infusion's service date (the clinic's
calendar date). Each figure is one or two aggregate queries, whatever the clinic's size.

`figure_rows` gives the rows behind any one figure (who is counted), from the same
querysets the counts come from, so a list always holds what its count counted; the
page lists them only for those who may read charts, and audits each patient listed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from neuroclinic.infusions.models import (
    AdverseEvent,
    InfusionSession,
    SessionQuestionnaire,
)
from neuroclinic.intake.models import ConsultRequest
from neuroclinic.outcomes.dashboard import Period
from neuroclinic.outcomes.episodes import GIVEN_STATUSES
from neuroclinic.outcomes.stats import Rate
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import Appointment
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

CADSS_CODE = "cadss6"
ALL_TIME = Period()  # no reporting period: every date


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    of_requests: Rate
    key: str = (
        ""  # the step in links to the patients behind ("" for none: not patients)
    )


@dataclass(frozen=True)
class TypeRate(Rate):
    """A no-show rate of one appointment type; `key` names the type in links."""

    key: str = ""


@dataclass(frozen=True)
class PerHundred:
    label: str
    events: int
    infusions: int
    key: str = ""  # the adverse event kind

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
    no_show_by_type: tuple[TypeRate, ...]
    infusions_given: int
    adverse_events: tuple[PerHundred, ...]
    cadss: tuple[CadssRow, ...]
    period: Period = ALL_TIME


# The rows each figure counts --------------------------------------------------------


def _requests(organization_id: int, period: Period) -> QuerySet[ConsultRequest]:
    return ConsultRequest.objects.filter(
        Q(organization_id=organization_id) & period.query("created_at")
    ).order_by()


def _funnel_steps() -> dict[str, Q]:
    plans = TreatmentPlan.objects.filter(patient_id=OuterRef("patient_id"))
    given = InfusionSession.objects.filter(
        patient_id=OuterRef("patient_id"), status__in=GIVEN_STATUSES
    )
    return {
        "converted": Q(patient__isnull=False),
        "planned": Q(Exists(plans)),
        "infused": Q(Exists(given)),
        "completed": Q(Exists(plans.filter(induction_completed_at__isnull=False))),
    }


FUNNEL_LABELS = (
    ("requests", "Consult requested"),
    ("converted", "Became a patient"),
    ("planned", "Treatment plan made"),
    ("infused", "First infusion given"),
    ("completed", "Induction series completed"),
)


def _visits(organization_id: int, period: Period) -> QuerySet[Appointment]:
    """Past visits checked in or marked a no-show, starting in the period."""
    return Appointment.objects.filter(
        Q(
            organization_id=organization_id,
            starts_at__lt=timezone.now(),
            status__in=[Appointment.Status.CHECKED_IN, Appointment.Status.NO_SHOW],
        )
        & period.query("starts_at")
    ).order_by()


def _given(organization_id: int, period: Period) -> QuerySet[InfusionSession]:
    return InfusionSession.objects.filter(
        Q(organization_id=organization_id, status__in=GIVEN_STATUSES)
        & period.days("service_date")
    ).order_by()


def _events(organization_id: int, period: Period) -> QuerySet[AdverseEvent]:
    return AdverseEvent.objects.filter(
        Q(
            session__organization_id=organization_id,
            session__status__in=GIVEN_STATUSES,
        )
        & period.days("session__service_date")
    ).order_by()


def _cadss(organization_id: int, period: Period) -> QuerySet[SessionQuestionnaire]:
    return SessionQuestionnaire.objects.filter(
        Q(
            session__organization_id=organization_id,
            session__order__kind=InfusionOrder.Kind.INDUCTION,
            response__instrument_code=CADSS_CODE,
            response__amended_by__isnull=True,
            response__total__isnull=False,
        )
        & period.days("session__service_date")
    ).order_by()


# The figures ------------------------------------------------------------------------


def funnel(organization_id: int, period: Period = ALL_TIME) -> tuple[FunnelStep, ...]:
    counts = _requests(organization_id, period).aggregate(
        requests=Count("id"),
        **{key: Count("id", filter=q) for key, q in _funnel_steps().items()},
    )
    total = counts["requests"]
    return tuple(
        FunnelStep(
            label,
            counts[key],
            Rate(label, counts[key], total),
            "" if key == "requests" else key,
        )
        for key, label in FUNNEL_LABELS
    )


def no_shows(
    organization_id: int, period: Period = ALL_TIME
) -> tuple[Rate, tuple[TypeRate, ...]]:
    rows = list(
        _visits(organization_id, period)
        .values("appointment_type_id", "appointment_type__name")
        .annotate(
            n=Count("id"),
            missed=Count("id", filter=Q(status=Appointment.Status.NO_SHOW)),
        )
        .order_by("appointment_type__name", "appointment_type_id")
    )
    by_type = tuple(
        TypeRate(
            r["appointment_type__name"],
            r["missed"],
            r["n"],
            key=str(r["appointment_type_id"]),
        )
        for r in rows
    )
    overall = Rate(
        "All visits", sum(r.count for r in by_type), sum(r.total for r in by_type)
    )
    return overall, by_type


def adverse_events(
    organization_id: int, period: Period = ALL_TIME
) -> tuple[int, tuple[PerHundred, ...]]:
    infusions = _given(organization_id, period).count()
    by_kind = dict(
        _events(organization_id, period).values_list("kind").annotate(n=Count("id"))
    )
    return infusions, tuple(
        PerHundred(label, by_kind.get(kind, 0), infusions, key=kind)
        for kind, label in AdverseEvent.Kind.choices
    )


def cadss_by_infusion_number(
    organization_id: int, period: Period = ALL_TIME
) -> tuple[CadssRow, ...]:
    rows = (
        _cadss(organization_id, period)
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


def clinic_rates(organization_id: int, period: Period = ALL_TIME) -> ClinicRates:
    overall, by_type = no_shows(organization_id, period)
    infusions, events = adverse_events(organization_id, period)
    return ClinicRates(
        funnel=funnel(organization_id, period),
        no_show=overall,
        no_show_by_type=by_type,
        infusions_given=infusions,
        adverse_events=events,
        cadss=cadss_by_infusion_number(organization_id, period),
        period=period,
    )


# The rows behind one figure ---------------------------------------------------------


@dataclass(frozen=True)
class FigureRow:
    """One counted thing behind a figure: whose it is, its date and what it was."""

    patient: Patient
    on: date
    detail: str


# figure -> its heading on the list of patients behind it.
FIGURES = {
    "funnel": "Consult requests that reached this step",
    "no_shows": "Visits marked a no-show",
    "visits": "Visits checked in or marked a no-show",
    "infusions": "Infusions given",
    "adverse_events": "Adverse events",
    "cadss": "CADSS-6 totals at induction infusions",
}


def _keyed_type(key: str) -> Q:
    if key == "":
        return Q()
    if not key.isdigit():
        raise ValueError("No such visit type.")
    return Q(appointment_type_id=int(key))


def figure_rows(
    organization_id: int, *, figure: str, key: str, period: Period, limit: int
) -> tuple[int, list[FigureRow]]:
    """(how many, the first `limit` rows) behind one clinic rate, or ValueError.

    figure/key: funnel and a step past the request (converted, planned, infused,
    completed); no_shows or visits and an appointment type's id ("" for every type);
    infusions (key ""); adverse_events and a kind; cadss and an infusion number.
    """
    local = timezone.localdate
    make: Callable[[Any], FigureRow]
    if figure == "funnel":
        steps = _funnel_steps()
        if key not in steps:
            raise ValueError("No such step.")
        rows: QuerySet[Any] = _requests(organization_id, period).filter(steps[key])
        order = ("patient__family_name", "patient__given_name", "created_at", "id")

        def make(r: ConsultRequest) -> FigureRow:
            assert r.patient is not None  # every step past the request has one
            return FigureRow(r.patient, local(r.created_at), "Consult requested")

    elif figure in ("no_shows", "visits"):
        rows = _visits(organization_id, period).filter(_keyed_type(key))
        if figure == "no_shows":
            rows = rows.filter(status=Appointment.Status.NO_SHOW)
        rows = rows.select_related("appointment_type")
        order = ("patient__family_name", "patient__given_name", "starts_at", "id")

        def make(r: Appointment) -> FigureRow:
            return FigureRow(
                r.patient,
                local(r.starts_at),
                f"{r.appointment_type.name}: {r.get_status_display()}",
            )

    elif figure == "infusions":
        if key:
            raise ValueError("No such figure.")
        rows = _given(organization_id, period)
        order = ("patient__family_name", "patient__given_name", "service_date", "id")

        def make(r: InfusionSession) -> FigureRow:
            return FigureRow(
                r.patient,
                r.service_date,
                f"Infusion {r.sequence_number} of {r.sequence_total}",
            )

    elif figure == "adverse_events":
        if key not in AdverseEvent.Kind.values:
            raise ValueError("No such adverse event kind.")
        rows = _events(organization_id, period).filter(kind=key)
        rows = rows.select_related("session__patient")
        order = (
            "session__patient__family_name",
            "session__patient__given_name",
            "onset_at",
            "id",
        )

        def make(r: AdverseEvent) -> FigureRow:
            return FigureRow(
                r.session.patient,
                r.session.service_date,
                f"{r.get_kind_display()} ({r.get_severity_display()})",
            )

    elif figure == "cadss":
        if not key.isdigit():
            raise ValueError("No such infusion number.")
        rows = _cadss(organization_id, period).filter(session__sequence_number=int(key))
        rows = rows.select_related("session__patient", "response")
        order = (
            "session__patient__family_name",
            "session__patient__given_name",
            "session__service_date",
            "id",
        )

        def make(r: SessionQuestionnaire) -> FigureRow:
            return FigureRow(
                r.session.patient,
                r.session.service_date,
                f"CADSS-6 total {r.response.total} at infusion {key}",
            )

    else:
        raise ValueError("No such figure.")
    if figure in ("funnel", "no_shows", "visits", "infusions"):
        rows = rows.select_related("patient")
    total = rows.count()
    return total, [make(r) for r in rows.order_by(*order)[:limit]]
