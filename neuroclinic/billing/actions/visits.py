"""Invoices for TMS sessions and office visits, from what was charted (B2, B4, B4b).

Like an infusion, each is invoiced once: `Invoice.session_ref` holds the TMS
session's or the appointment's UUID. A visit that did not happen (cancelled,
no-show, not checked in) and a TMS session still open are refused. The pages and
the API both call these functions.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.billing.accounting import account_credit
from neuroclinic.billing.actions.common import current_price, rule
from neuroclinic.billing.actions.em_settings import current_rules
from neuroclinic.billing.actions.invoices import (
    BILLABLE_SESSION_STATUSES,
    PlannedLine,
    _issue,
    _open_package_sale,
    apply_credit,
)
from neuroclinic.billing.em_rules import (
    DEFAULT_EM_RULES,
    EmTimeRules,
    band_label,
    is_new_patient,
    lookback_start,
)
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import EmRuleVersion, Invoice, Service, VisitCoding
from neuroclinic.billing.rule_errors import BillingRuleError
from neuroclinic.billing.rules import (
    PSYCH_EVAL_FAMILY,
    TMS_SERVICES,
    suggested_visit_family,
    tms_session_code,
    visit_code,
)
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import Appointment
from neuroclinic.tms.models import TmsSession
from neuroclinic.tms.reads import local_date


def _not_invoiced(ref: UUID) -> None:
    if Invoice.objects.filter(session_ref=ref).exists():
        raise BillingError(
            "This visit is already invoiced.", field="session", code="invoiced"
        )


@transaction.atomic
def invoice_tms_session(session: TmsSession, *, by: User) -> Invoice:
    """A TMS session that ended: 90867, 90868 or 90869 from its charted facts (B2).

    Within a TMS course package the session is priced at the package's share and
    credit on account is applied at once, as for infusions.
    """
    if session.status == TmsSession.Status.IN_PROGRESS or session.ended_at is None:
        raise BillingError(
            "The TMS session has not ended: invoice it after.",
            field="session",
            code="visit_not_held",
        )
    if session.pulses_delivered == 0:
        raise BillingError(
            "No pulses were delivered in that session: there is nothing to invoice.",
            field="session",
            code="visit_not_held",
        )
    _not_invoiced(session.uuid)
    code = rule(
        tms_session_code,
        number=session.number,
        new_threshold=session.new_threshold,
        charted=session.cpt_code,
    )
    course = session.course
    physician = User.objects.get(pk=session.supervising_physician_id)
    price = current_price(course.organization_id, TMS_SERVICES[code])
    package = _open_package_sale(session.patient, Service.Key.TMS_SESSION)
    description = f"{price.service.name}, session {session.number}"
    if package:
        description += " (package)"
    invoice = _issue(
        session.patient,
        kind=Invoice.Kind.VISIT,
        service_date=local_date(course, session.started_at),
        lines=[
            PlannedLine(price, 1, package[1] if package else price.amount, description)
        ],
        location_id=course.location_id,
        rendering_provider=physician,
        session_ref=session.uuid,
        package_sale=package[0] if package else None,
        by=by,
    )
    if package:
        credit = account_credit(session.patient)
        if credit > 0:
            apply_credit(invoice, amount=min(credit, invoice.total), by=by)
    return invoice


# Appointment types that are not a professional (face-to-face) service (B4b).
NOT_PROFESSIONAL_TYPES = frozenset({"phone_check_in"})


def visit_date(appointment: Appointment) -> date:
    """The visit's calendar date at its location."""
    zone = zoneinfo.ZoneInfo(appointment.location.time_zone)
    return appointment.starts_at.astimezone(zone).date()


def professional_service_dates(
    patient: Patient,
    *,
    since: date | None = None,
    before: date | None = None,
    rules: EmTimeRules = DEFAULT_EM_RULES,
) -> list[date]:
    """Dates on which the clinic charted a professional service to the patient (B4b).

    A visit the patient was checked in for (not a phone check-in), an infusion given
    (discharged or closed) and a TMS session that delivered pulses, each on its
    local calendar date, as `rules.service_counts` says; `since` inclusive, `before`
    exclusive. Three queries, whatever the number of services.
    """
    # Times are compared a day wide on each side; the local date decides below.
    after = (
        datetime.combine(since - timedelta(days=1), time.min, tzinfo=UTC)
        if since
        else None
    )
    until = (
        datetime.combine(before + timedelta(days=1), time.min, tzinfo=UTC)
        if before
        else None
    )
    dates: list[date] = []
    if "visit" in rules.service_counts:
        visits_ = Appointment.objects.filter(
            patient=patient, status=Appointment.Status.CHECKED_IN
        ).exclude(appointment_type__code__in=NOT_PROFESSIONAL_TYPES)
        if after:
            visits_ = visits_.filter(starts_at__gte=after)
        if until:
            visits_ = visits_.filter(starts_at__lt=until)
        dates += [visit_date(a) for a in visits_.select_related("location")]
    if "infusion" in rules.service_counts:
        infusions = InfusionSession.objects.filter(
            patient=patient, status__in=BILLABLE_SESSION_STATUSES
        )
        if since:
            infusions = infusions.filter(service_date__gte=since)
        if before:
            infusions = infusions.filter(service_date__lt=before)
        dates += list(infusions.values_list("service_date", flat=True))
    if "tms_session" in rules.service_counts:
        sessions = TmsSession.objects.filter(
            patient=patient, pulses_delivered__gt=0, ended_at__isnull=False
        )
        if after:
            sessions = sessions.filter(started_at__gte=after)
        if until:
            sessions = sessions.filter(started_at__lt=until)
        dates += [
            local_date(s.course, s.started_at)
            for s in sessions.select_related("course__location")
        ]
    return sorted(
        d
        for d in dates
        if (since is None or d >= since) and (before is None or d < before)
    )


def new_patient_on(
    patient: Patient, visit_on: date, *, rules: EmTimeRules = DEFAULT_EM_RULES
) -> bool:
    """True when the clinic charted no professional service in the look-back (B4b)."""
    since = lookback_start(visit_on, rules.lookback_years)
    return is_new_patient(
        visit_on=visit_on,
        earlier_services=professional_service_dates(
            patient, since=since, before=visit_on, rules=rules
        ),
        rules=rules,
    )


@dataclass(frozen=True)
class VisitSuggestion:
    """What the rules suggest for a visit, and why (shown before it is invoiced)."""

    family: str
    new_patient: bool
    medical: bool
    basis: str


def _basis(
    *,
    family: str,
    new_patient: bool,
    medical: bool,
    service_date: date,
    rules: EmTimeRules,
    version: EmRuleVersion | None,
) -> str:
    if family == PSYCH_EVAL_FAMILY:
        return "Psychiatric evaluation " + (
            "with medical services (the clinician prescribes): 90792"
            if medical
            else "without medical services (the clinician does not prescribe): 90791"
        )
    since = lookback_start(service_date, rules.lookback_years)
    rule_name = f"E/M rules v{version.version}" if version else "built-in E/M rules"
    who = (
        f"new patient: no professional service from the clinic since {since}"
        if new_patient
        else f"established patient: a professional service from the clinic since {since}"
    )
    return f"{band_label(rules, new_patient=new_patient)}; {who} ({rule_name})"


def suggest_visit(
    appointment: Appointment,
    *,
    served: list[date] | None = None,
    version: EmRuleVersion | None = None,
    rules: EmTimeRules = DEFAULT_EM_RULES,
) -> VisitSuggestion:
    """The suggested family for a visit and the basis, under the given rules."""
    service_date = visit_date(appointment)
    if served is None:
        new_patient = new_patient_on(appointment.patient, service_date, rules=rules)
    else:
        new_patient = is_new_patient(
            visit_on=service_date, earlier_services=served, rules=rules
        )
    staff = appointment.staff
    medical = staff is not None and staff.can(Capability.WRITE_ORDERS)
    family = suggested_visit_family(appointment.appointment_type.code)
    return VisitSuggestion(
        family,
        new_patient,
        medical,
        _basis(
            family=family,
            new_patient=new_patient,
            medical=medical,
            service_date=service_date,
            rules=rules,
            version=version,
        ),
    )


@transaction.atomic
def invoice_visit(
    appointment: Appointment,
    *,
    minutes: int | None = None,
    family: str | None = None,
    by: User,
    em_rules: EmTimeRules | None = None,
) -> Invoice:
    """A consult, intake visit or follow-up that happened (the patient was checked in).

    Consults and intake visits are psychiatric evaluations (90792 by a prescriber,
    90791 otherwise); a follow-up's level comes from the documented total minutes,
    in the new-patient bands (99202-99205) when the clinic charted no professional
    service to the patient in the look-back before the visit, else 99212-99215.
    `family` ("psych_eval" or "em") overrides that suggestion for this visit
    (`rules.visit_code` says which choices are refused). The clinic's current E/M
    rule version is used unless `em_rules` is given; the version, the suggestion,
    the choice and the basis are kept with the invoice (`VisitCoding`).
    """
    if em_rules is None:
        version, rules = current_rules(appointment.organization_id)
    else:
        version, rules = None, em_rules
    staff = appointment.staff
    service_date = visit_date(appointment)
    medical = staff is not None and staff.can(Capability.WRITE_ORDERS)
    held = appointment.status == Appointment.Status.CHECKED_IN
    new_patient = held and new_patient_on(
        appointment.patient, service_date, rules=rules
    )
    found = rule(
        visit_code,
        appointment_type=appointment.appointment_type.code,
        status=appointment.status,
        medical=medical,
        minutes=minutes,
        new_patient=new_patient,
        em_rules=rules,
        family=family,
    )
    _not_invoiced(appointment.uuid)
    if found.service_key not in Service.Key.values:
        raise BillingError(
            f"{found.code} is not on the price list's services.",
            field="price",
            code="no_price",
        )
    price = current_price(appointment.organization_id, found.service_key)
    description = price.service.name
    if minutes is not None and found.service_key.startswith("em_"):
        description += f" ({minutes} min documented)"
    invoice = _issue(
        appointment.patient,
        kind=Invoice.Kind.VISIT,
        service_date=service_date,
        lines=[PlannedLine(price, 1, price.amount, description)],
        location_id=appointment.location_id,
        rendering_provider=staff,
        session_ref=appointment.uuid,
        by=by,
    )
    suggested_family = suggested_visit_family(appointment.appointment_type.code)
    chosen_family = family or suggested_family
    try:
        suggested = visit_code(
            appointment_type=appointment.appointment_type.code,
            status=appointment.status,
            medical=medical,
            minutes=minutes,
            new_patient=new_patient,
            em_rules=rules,
        ).code
    except BillingRuleError:  # e.g. an evaluation billed as E/M: no minutes suggested
        suggested = ""
    basis = _basis(
        family=chosen_family,
        new_patient=new_patient,
        medical=medical,
        service_date=service_date,
        rules=rules,
        version=version,
    )
    if chosen_family != suggested_family:
        basis = (
            f"Chosen instead of the suggested {suggested or suggested_family}: {basis}"
        )
    VisitCoding.objects.create(
        invoice=invoice,
        rule_version=version,
        new_patient=new_patient,
        minutes=minutes,
        suggested_code=suggested,
        chosen_code=found.code,
        basis=basis[:300],
    )
    return invoice
