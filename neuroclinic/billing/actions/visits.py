"""Invoices for TMS sessions and office visits, from what was charted (B2, B4).

Like an infusion, each is invoiced once: `Invoice.session_ref` holds the TMS
session's or the appointment's UUID. A visit that did not happen (cancelled,
no-show, not checked in) and a TMS session still open are refused.
"""

import zoneinfo
from uuid import UUID

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.billing.accounting import account_credit
from neuroclinic.billing.actions.common import current_price, rule
from neuroclinic.billing.actions.invoices import (
    PlannedLine,
    _issue,
    _open_package_sale,
    apply_credit,
)
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import Invoice, Service
from neuroclinic.billing.rules import TMS_SERVICES, tms_session_code, visit_code
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


@transaction.atomic
def invoice_visit(
    appointment: Appointment, *, minutes: int | None = None, by: User
) -> Invoice:
    """A consult, intake visit or follow-up that happened (the patient was checked in).

    Consults and intake visits are psychiatric evaluations (90792 by a prescriber,
    90791 otherwise); a follow-up's level comes from the documented total minutes.
    """
    staff = appointment.staff
    found = rule(
        visit_code,
        appointment_type=appointment.appointment_type.code,
        status=appointment.status,
        medical=staff is not None and staff.can(Capability.WRITE_ORDERS),
        minutes=minutes,
    )
    _not_invoiced(appointment.uuid)
    price = current_price(appointment.organization_id, found.service_key)
    zone = appointment.location.time_zone
    service_date = appointment.starts_at.astimezone(zoneinfo.ZoneInfo(zone)).date()
    description = price.service.name
    if minutes is not None and found.service_key.startswith("em_"):
        description += f" ({minutes} min documented)"
    return _issue(
        appointment.patient,
        kind=Invoice.Kind.VISIT,
        service_date=service_date,
        lines=[PlannedLine(price, 1, price.amount, description)],
        location_id=appointment.location_id,
        rendering_provider=staff,
        session_ref=appointment.uuid,
        by=by,
    )
