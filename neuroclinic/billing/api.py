"""Billing over the API: prices, estimates, invoices, payments, refunds, superbills and
patient statements.

Invoicing an infusion, a TMS session or a visit calls the same actions as the
account page's buttons, through the same doors (`billing.access`).

The same actions as the pages; a refusal is 422 problem+json naming the field;
a role without the capability 403; another clinic's record 404. Every read
of a patient's billing is audited.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.api_errors import PROBLEM_CONTENT_TYPE, FieldErrors
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing.access import (
    appointment_for,
    check_em_rules,
    em_rule_version_for,
    infusion_session_for,
    invoice_for,
    package_sale_for,
    payment_for,
    statement_for,
    superbill_for,
    tms_session_for,
    visit_codings_for,
)
from neuroclinic.billing.accounting import account_credit, invoice_balance, payer_status
from neuroclinic.billing.actions import (
    estimates,
    invoices,
    packages,
    setup,
    statements,
    superbills,
    visits,
)
from neuroclinic.billing.actions.em_settings import (
    change_em_rules,
    current_rules,
    rules_of,
)
from neuroclinic.billing.actions.reads import record_read
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import (
    EmRuleVersion,
    GoodFaithEstimate,
    Invoice,
    Package,
    Payment,
    Price,
    Statement,
    VisitCoding,
)
from neuroclinic.patients.access import get_patient_for_user

router = Router(tags=["billing"])


def _user(request: HttpRequest, capability: Capability) -> User:
    user = request.user
    assert isinstance(user, User)  # the API's auth guarantees a signed-in staff user
    if not user.can(capability):
        raise PermissionDenied
    return user


def _refused(exc: BillingError) -> FieldErrors:
    return FieldErrors({exc.field: [exc.message]})


class PriceOut(Schema):
    service: str
    name: str
    code: str
    amount: Decimal
    currency: str
    version: int


class PriceIn(Schema):
    service: str
    amount: str = Field(description="Decimal string, e.g. '475.00'")
    currency: str = "USD"
    reason: str = ""


class LineOut(Schema):
    code: str
    modifiers: str
    units: int
    description: str
    unit_price: Decimal
    amount: Decimal
    service_date: date


class InvoiceOut(Schema):
    id: UUID
    number: str
    kind: str
    service_date: date
    currency: str
    total: Decimal
    paid: Decimal
    due: Decimal
    lines: list[LineOut]


class EstimateOut(Schema):
    id: UUID
    number: str
    given_at: str
    due_by: date | None
    total: Decimal
    currency: str
    content: dict[str, Any]


class AccountOut(Schema):
    payer_status: str | None
    credit: Decimal
    invoices: list[InvoiceOut]
    estimates: list[EstimateOut]


class PayerStatusIn(Schema):
    status: str
    member_id: str = ""


class EstimateItemIn(Schema):
    service: str
    quantity: int = 1


class EstimateIn(Schema):
    items: list[EstimateItemIn] = []
    package_id: UUID | None = None
    trigger: str = "scheduled"
    scheduled_on: date
    service_on: date | None = None


class PaymentIn(Schema):
    amount: str
    method: str
    reference: str = ""
    excess_as_credit: bool = False


class PaymentOut(Schema):
    id: UUID
    kind: str
    method: str
    amount: Decimal
    currency: str
    invoice: str | None


class RefundIn(Schema):
    amount: str
    reason: str


class SuperbillIn(Schema):
    invoice_id: UUID | None = None
    period_start: date | None = None
    period_end: date | None = None


class SuperbillOut(Schema):
    id: UUID
    period_start: date
    period_end: date
    content: dict[str, Any]


def _price(price: Price) -> dict[str, Any]:
    return {
        "service": price.service.key,
        "name": price.service.name,
        "code": price.service.code,
        "amount": price.amount,
        "currency": price.currency,
        "version": price.version,
    }


def _invoice(invoice: Invoice) -> dict[str, Any]:
    balance = invoice_balance(invoice)
    return {
        "id": invoice.uuid,
        "number": invoice.number,
        "kind": invoice.kind,
        "service_date": invoice.service_date,
        "currency": invoice.currency,
        "total": invoice.total,
        "paid": balance.net_paid,
        "due": balance.due,
        "lines": list(invoice.lines.all()),
    }


def _estimate(estimate: GoodFaithEstimate) -> dict[str, Any]:
    return {
        "id": estimate.uuid,
        "number": estimate.number,
        "given_at": estimate.given_at.isoformat(),
        "due_by": estimate.due_by,
        "total": estimate.total,
        "currency": estimate.currency,
        "content": estimate.content,
    }


def _payment(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.uuid,
        "kind": payment.kind,
        "method": payment.method,
        "amount": payment.amount,
        "currency": payment.currency,
        "invoice": payment.invoice.number if payment.invoice else None,
    }


@router.get(
    "/billing/prices", response=list[PriceOut], summary="The current price list"
)
def list_prices(request: HttpRequest) -> list[dict[str, Any]]:
    user = _user(request, Capability.BILLING_VIEW)
    latest: dict[int, Price] = {}
    for price in (
        Price.objects.filter(service__organization_id=user.organization_pk)
        .select_related("service")
        .order_by("service_id", "version")
    ):
        latest[price.service_id] = price
    return [_price(p) for p in latest.values()]


@router.post(
    "/billing/prices", response={201: PriceOut}, summary="Set a new price version"
)
def set_price(request: HttpRequest, payload: PriceIn) -> Status[dict[str, Any]]:
    user = _user(request, Capability.BILLING_SETUP)
    assert user.organization is not None
    try:
        price = setup.set_price(
            user.organization,
            service_key=payload.service,
            amount=payload.amount,
            currency_code=payload.currency,
            reason=payload.reason,
            by=user,
        )
    except BillingError as exc:
        raise _refused(exc) from None
    return Status(201, _price(price))


@router.get(
    "/billing/patients/{patient_id}",
    response=AccountOut,
    summary="A patient's billing account",
)
def read_account(request: HttpRequest, patient_id: UUID) -> dict[str, Any]:
    user = _user(request, Capability.BILLING_VIEW)
    patient = get_patient_for_user(user, patient_id, capability=Capability.BILLING_VIEW)
    record_read(
        AuditEvent.Action.BILLING_ACCOUNT_VIEWED,
        patient=patient,
        subject=patient,
        by=user,
        via="api",
    )
    return {
        "payer_status": payer_status(patient),
        "credit": account_credit(patient),
        "invoices": [
            _invoice(i)
            for i in Invoice.objects.filter(patient=patient).prefetch_related(
                "lines", "payments"
            )
        ],
        "estimates": [
            _estimate(e) for e in GoodFaithEstimate.objects.filter(patient=patient)
        ],
    }


@router.post(
    "/billing/patients/{patient_id}/payer-status", response={201: dict[str, str]}
)
def set_payer_status(
    request: HttpRequest, patient_id: UUID, payload: PayerStatusIn
) -> Status[dict[str, str]]:
    user = _user(request, Capability.BILLING_CHARGE)
    patient = get_patient_for_user(
        user, patient_id, capability=Capability.BILLING_CHARGE
    )
    try:
        answer = estimates.record_payer_status(
            patient, status=payload.status, member_id=payload.member_id, by=user
        )
    except BillingError as exc:
        raise _refused(exc) from None
    return Status(201, {"status": answer.status})


@router.post(
    "/billing/patients/{patient_id}/estimates",
    response={201: EstimateOut},
    summary="Give a good-faith estimate",
)
def give_estimate(
    request: HttpRequest, patient_id: UUID, payload: EstimateIn
) -> Status[dict[str, Any]]:
    user = _user(request, Capability.BILLING_CHARGE)
    patient = get_patient_for_user(
        user, patient_id, capability=Capability.BILLING_CHARGE
    )
    package_version = None
    if payload.package_id is not None:
        package = Package.objects.filter(
            uuid=payload.package_id, organization_id=patient.organization_id
        ).first()
        if package is None:
            raise FieldErrors({"package_id": ["No such package."]})
        package_version = package.versions.order_by("-version").first()
    try:
        estimate = estimates.give_estimate(
            patient,
            items=[
                estimates.EstimateItem(i.service, i.quantity) for i in payload.items
            ],
            package_version=package_version,
            trigger=payload.trigger,
            scheduled_on=payload.scheduled_on,
            service_on=payload.service_on,
            by=user,
        )
    except BillingError as exc:
        raise _refused(exc) from None
    return Status(201, _estimate(estimate))


def _problems(not_found: str, refused: str) -> dict[str, Any]:
    """OpenAPI text for an invoicing operation's 404 and 422 (problem documents)."""
    content = {
        PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    return {
        "responses": {
            404: {"description": not_found, "content": content},
            422: {"description": refused, "content": content},
        }
    }


@router.post(
    "/billing/sessions/{session_id}/invoice",
    response={201: InvoiceOut},
    summary="Invoice a charted infusion",
    openapi_extra=_problems(
        "No such infusion in the caller's organization (or the patient is not"
        " visible to the caller).",
        "Refused, nothing written; `errors[].field` is `session` (cancelled, not"
        " yet discharged: code visit_not_held; already invoiced) or `price` (a"
        " service with no price).",
    ),
)
def invoice_session(request: HttpRequest, session_id: UUID) -> Status[dict[str, Any]]:
    user = _user(request, Capability.BILLING_CHARGE)
    session = infusion_session_for(
        user, session_id, capability=Capability.BILLING_CHARGE
    )
    try:
        invoice = invoices.invoice_session(session, by=user)
    except BillingError as exc:
        raise _refused(exc) from None
    return Status(201, _invoice(invoice))


@router.post(
    "/billing/tms-sessions/{session_id}/invoice",
    response={201: InvoiceOut},
    summary="Invoice a charted TMS session (90867, 90868 or 90869)",
    openapi_extra=_problems(
        "No such TMS session in the caller's organization (or the patient is not"
        " visible to the caller).",
        "Refused, nothing written; `errors[].field` is `session`: still open or no"
        " pulse delivered (the session did not happen), already invoiced, or the"
        " charted code disagrees with the session's facts; or `price`.",
    ),
)
def invoice_tms_session(
    request: HttpRequest, session_id: UUID
) -> Status[dict[str, Any]]:
    """The code comes from the charted session: 90867 for the course's first
    session, 90869 when the motor threshold was determined again before it, else
    90868. Within a TMS course package the session is priced at its share and credit
    on account is applied."""
    user = _user(request, Capability.BILLING_CHARGE)
    session = tms_session_for(user, session_id, capability=Capability.BILLING_CHARGE)
    try:
        invoice = visits.invoice_tms_session(session, by=user)
    except BillingError as exc:
        raise _refused(exc) from None
    return Status(201, _invoice(invoice))


class VisitInvoiceIn(Schema):
    minutes: int | None = Field(
        None,
        ge=0,
        le=1440,
        description="The clinician's documented total minutes on the date; required"
        " for an office visit by time (E/M), ignored otherwise.",
    )
    family: str | None = Field(
        None,
        description="`psych_eval` (90791/90792) or `em` (office visit by time); empty:"
        " the suggestion (an evaluation for a consult or intake visit, E/M for a"
        " follow-up). Refused: `em` for an evaluation by a clinician who does not"
        " prescribe, `psych_eval` for an established patient's follow-up.",
    )


class VisitSuggestionOut(Schema):
    family: str
    new_patient: bool
    medical: bool
    basis: str
    rule_version: int | None


@router.get(
    "/billing/visits/{appointment_id}/suggestion",
    response=VisitSuggestionOut,
    summary="How a visit would be billed: the suggested family and its basis",
    openapi_extra=_problems(
        "No such visit (appointment) in the caller's organization (or the patient"
        " is not visible to the caller).",
        "Not used.",
    ),
)
def suggest_visit(request: HttpRequest, appointment_id: UUID) -> dict[str, Any]:
    """Under the clinic's current E/M rule version: an evaluation (90791/90792) or an
    office visit by time, new or established patient, with the look-back's dates."""
    user = _user(request, Capability.BILLING_CHARGE)
    appointment = appointment_for(
        user, appointment_id, capability=Capability.BILLING_CHARGE
    )
    version, rules = current_rules(appointment.organization_id)
    found = visits.suggest_visit(appointment, version=version, rules=rules)
    record_read(
        AuditEvent.Action.BILLING_ACCOUNT_VIEWED,
        patient=appointment.patient,
        subject=appointment,
        by=user,
        via="api",
        read="visit_suggestion",
    )
    return {
        "family": found.family,
        "new_patient": found.new_patient,
        "medical": found.medical,
        "basis": found.basis,
        "rule_version": version.version if version else None,
    }


@router.post(
    "/billing/visits/{appointment_id}/invoice",
    response={201: InvoiceOut},
    summary="Invoice a visit that happened (90791/90792, or office E/M by time)",
    openapi_extra=_problems(
        "No such visit (appointment) in the caller's organization (or the patient"
        " is not visible to the caller).",
        "Refused, nothing written; `errors[].field` is `appointment` (cancelled,"
        " late-cancelled, no-show or not checked in: the visit did not happen; a"
        " kind of visit invoiced from its chart), `session` (already invoiced),"
        " `minutes` (missing for E/M, or fewer than the lowest band), `family`"
        " (not a choice, or a refused combination) or `price`.",
    ),
)
def invoice_visit(
    request: HttpRequest, appointment_id: UUID, payload: VisitInvoiceIn
) -> Status[dict[str, Any]]:
    """A consult or intake visit is 90792 when a prescriber saw the patient, 90791
    otherwise. A follow-up is coded by documented minutes: 99202-99205 when the
    clinic charted no professional service to the patient in the three years before
    the visit (a new patient), 99212-99215 otherwise."""
    user = _user(request, Capability.BILLING_CHARGE)
    appointment = appointment_for(
        user, appointment_id, capability=Capability.BILLING_CHARGE
    )
    try:
        invoice = visits.invoice_visit(
            appointment, minutes=payload.minutes, family=payload.family, by=user
        )
    except BillingError as exc:
        raise _refused(exc) from None
    return Status(201, _invoice(invoice))


@router.post(
    "/billing/invoices/{invoice_id}/payments",
    response={201: list[PaymentOut]},
    summary="Record a payment",
)
def pay(
    request: HttpRequest, invoice_id: UUID, payload: PaymentIn
) -> Status[list[dict[str, Any]]]:
    user = _user(request, Capability.BILLING_PAYMENTS)
    invoice = invoice_for(user, invoice_id, capability=Capability.BILLING_PAYMENTS)
    try:
        made = invoices.record_payment(
            invoice,
            amount=payload.amount,
            method=payload.method,
            reference=payload.reference,
            excess_as_credit=payload.excess_as_credit,
            by=user,
        )
    except BillingError as exc:
        raise _refused(exc) from None
    return Status(201, [_payment(p) for p in made])


@router.post(
    "/billing/payments/{payment_id}/refunds",
    response={201: PaymentOut},
    summary="Refund against a payment",
)
def refund(
    request: HttpRequest, payment_id: UUID, payload: RefundIn
) -> Status[dict[str, Any]]:
    user = _user(request, Capability.BILLING_REFUND)
    payment = payment_for(user, payment_id, capability=Capability.BILLING_REFUND)
    try:
        made = invoices.refund_payment(
            payment, amount=payload.amount, reason=payload.reason, by=user
        )
    except BillingError as exc:
        raise _refused(exc) from None
    return Status(201, _payment(made))


@router.post(
    "/billing/patients/{patient_id}/superbills",
    response={201: SuperbillOut},
    summary="Make a superbill",
)
def make_superbill(
    request: HttpRequest, patient_id: UUID, payload: SuperbillIn
) -> Status[dict[str, Any]]:
    user = _user(request, Capability.BILLING_CHARGE)
    patient = get_patient_for_user(
        user, patient_id, capability=Capability.BILLING_CHARGE
    )
    invoice = (
        invoice_for(user, payload.invoice_id, capability=Capability.BILLING_CHARGE)
        if payload.invoice_id
        else None
    )
    try:
        bill = superbills.make_superbill(
            patient,
            invoice=invoice,
            period_start=payload.period_start,
            period_end=payload.period_end,
            by=user,
        )
    except BillingError as exc:
        raise _refused(exc) from None
    return Status(
        201,
        {
            "id": bill.uuid,
            "period_start": bill.period_start,
            "period_end": bill.period_end,
            "content": bill.content,
        },
    )


@router.get(
    "/billing/superbills/{superbill_id}",
    response=SuperbillOut,
    summary="A superbill as given",
)
def read_superbill(request: HttpRequest, superbill_id: UUID) -> dict[str, Any]:
    user = _user(request, Capability.BILLING_VIEW)
    bill = superbill_for(user, superbill_id, capability=Capability.BILLING_VIEW)
    record_read(
        AuditEvent.Action.BILLING_DOCUMENT_VIEWED,
        patient=bill.patient,
        subject=bill,
        by=user,
        document="superbill",
        via="api",
    )
    return {
        "id": bill.uuid,
        "period_start": bill.period_start,
        "period_end": bill.period_end,
        "content": bill.content,
    }


class StatementIn(Schema):
    period_start: date | None = Field(None, description="First day, inclusive")
    period_end: date | None = Field(
        None, description="Last day, inclusive: on or after the start, not after today"
    )


class StatementOut(Schema):
    id: UUID
    number: str
    period_start: date
    period_end: date
    closing_balance: Decimal
    currency: str
    content: dict[str, Any]


def _statement(statement: Statement) -> dict[str, Any]:
    return {
        "id": statement.uuid,
        "number": statement.number,
        "period_start": statement.period_start,
        "period_end": statement.period_end,
        "closing_balance": statement.closing_balance,
        "currency": statement.currency,
        "content": statement.content,
    }


@router.post(
    "/billing/patients/{patient_id}/statements",
    response={201: StatementOut},
    summary="Make a patient statement for a period",
    openapi_extra=_problems(
        "No such patient in the caller's organization (or not visible to the caller).",
        "Refused, nothing written; `errors[].field` is `period_start` (missing),"
        " `period_end` (missing, before the start, or after today), `currency`, or"
        " `identity` (the practice's billing identity is not set up).",
    ),
)
def make_statement(
    request: HttpRequest, patient_id: UUID, payload: StatementIn
) -> Status[dict[str, Any]]:
    """Opening balance, each invoice, payment, refund and credit applied in the
    period, the closing balance and the aging of what is due at the period's end.
    The statement is then in the patient's portal; `billing verify` re-adds it."""
    user = _user(request, Capability.BILLING_CHARGE)
    patient = get_patient_for_user(
        user, patient_id, capability=Capability.BILLING_CHARGE
    )
    try:
        statement = statements.make_statement(
            patient,
            period_start=payload.period_start,
            period_end=payload.period_end,
            by=user,
        )
    except BillingError as exc:
        raise _refused(exc) from None
    return Status(201, _statement(statement))


@router.get(
    "/billing/statements/{statement_id}",
    response=StatementOut,
    summary="A patient statement as given",
)
def read_statement(request: HttpRequest, statement_id: UUID) -> dict[str, Any]:
    user = _user(request, Capability.BILLING_VIEW)
    statement = statement_for(user, statement_id, capability=Capability.BILLING_VIEW)
    record_read(
        AuditEvent.Action.BILLING_DOCUMENT_VIEWED,
        patient=statement.patient,
        subject=statement,
        by=user,
        document="statement",
        via="api",
    )
    return _statement(statement)


# Office-visit (E/M) time rules and visit codings -----------------------------------------


class BandOut(Schema):
    code: str
    low_minutes: int
    high_minutes: int | None = Field(description="null: no upper bound")


class EmRulesOut(Schema):
    version: int | None = Field(
        description="null: the built-in defaults (no version saved yet)"
    )
    new_patient_bands: list[BandOut]
    established_bands: list[BandOut]
    lookback_years: int
    change_note: str
    created_at: datetime | None
    created_by: str


class EmRulesListOut(Schema):
    current: EmRulesOut
    versions: list[EmRulesOut]


class EmRulesIn(Schema):
    new_patient_starts: dict[str, int] = Field(
        description="First minute of each new-patient code, 99202-99205"
    )
    new_patient_top: int | None = Field(
        None, description="99205's last minute (null: no end)"
    )
    established_starts: dict[str, int] = Field(
        description="First minute of each established-patient code, 99212-99215"
    )
    established_top: int | None = Field(
        None, description="99215's last minute (null: no end)"
    )
    lookback_years: int
    change_note: str


class VisitCodingOut(Schema):
    invoice: UUID
    invoice_number: str
    service_date: date
    rule_version: int | None = Field(description="null: the built-in defaults")
    new_patient: bool
    minutes: int | None
    suggested_code: str
    chosen_code: str
    basis: str
    made_at: datetime


def _em_rules(version: EmRuleVersion | None) -> dict[str, Any]:
    rules = rules_of(version)

    def bands(items: Any) -> list[dict[str, Any]]:
        return [
            {
                "code": b.code,
                "low_minutes": b.low_minutes,
                "high_minutes": b.high_minutes,
            }
            for b in items
        ]

    return {
        "version": version.version if version else None,
        "new_patient_bands": bands(rules.new_patient),
        "established_bands": bands(rules.established),
        "lookback_years": rules.lookback_years,
        "change_note": version.change_note if version else "",
        "created_at": version.created_at if version else None,
        "created_by": version.created_by.username if version else "",
    }


def _em_field(field: str) -> str:
    """The action's field (the page's name) as the API's: new_99203 -> new_patient_starts.99203."""
    for prefix, family in (("new_", "new_patient"), ("established_", "established")):
        if field.startswith(prefix):
            rest = field.removeprefix(prefix)
            return f"{family}_top" if rest == "top" else f"{family}_starts.{rest}"
    return field


@router.get(
    "/billing/em-rules",
    response=EmRulesListOut,
    summary="The office-visit (E/M) time rules: the current one and every version",
)
def list_em_rules(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    check_em_rules(user)
    versions = list(
        EmRuleVersion.objects.filter(organization_id=user.organization_pk)
        .select_related("created_by")
        .order_by("-version")
    )
    return {
        "current": _em_rules(versions[0] if versions else None),
        "versions": [_em_rules(v) for v in versions],
    }


@router.get(
    "/billing/em-rules/{version}",
    response=EmRulesOut,
    summary="One version of the E/M time rules",
)
def read_em_rules(request: HttpRequest, version: int) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    return _em_rules(em_rule_version_for(user, version))


@router.post(
    "/billing/em-rules",
    response={201: EmRulesOut},
    summary="Save the next version of the E/M time rules (medical director, clinic admin)",
    openapi_extra={
        "responses": {
            422: {
                "description": "Refused, nothing written; `errors[].field` is"
                " `new_patient_starts.<code>` or `established_starts.<code>` (missing,"
                " under 1, over 600, not increasing, not a code of the family),"
                " `new_patient_top`/`established_top` (before its band starts, over"
                " 600), `lookback_years` (1-10) or `change_note` (empty).",
                "content": {
                    PROBLEM_CONTENT_TYPE: {
                        "schema": {"$ref": "#/components/schemas/Problem"}
                    }
                },
            }
        }
    },
)
def save_em_rules(request: HttpRequest, payload: EmRulesIn) -> Status[dict[str, Any]]:
    """Applies to visits invoiced after it; an invoice keeps the version it was coded
    under. Bands are contiguous by construction (each ends the minute before the next
    starts)."""
    user = request.user
    assert isinstance(user, User)
    check_em_rules(user, write=True)
    assert user.organization is not None
    try:
        version = change_em_rules(
            user.organization,
            new_patient_starts=payload.new_patient_starts,
            new_patient_top=payload.new_patient_top,
            established_starts=payload.established_starts,
            established_top=payload.established_top,
            lookback_years=payload.lookback_years,
            change_note=payload.change_note,
            by=user,
        )
    except BillingError as exc:
        raise FieldErrors({_em_field(exc.field): [exc.message]}) from None
    return Status(201, _em_rules(version))


@router.get(
    "/billing/patients/{patient_id}/visit-codings",
    response=list[VisitCodingOut],
    summary="How each of a patient's visit invoices was coded",
)
def list_visit_codings(request: HttpRequest, patient_id: UUID) -> list[dict[str, Any]]:
    user = _user(request, Capability.BILLING_VIEW)
    patient, codings = visit_codings_for(user, patient_id)
    record_read(
        AuditEvent.Action.BILLING_ACCOUNT_VIEWED,
        patient=patient,
        by=user,
        what="visit_codings",
        via="api",
    )
    return [_coding(c) for c in codings]


def _coding(coding: VisitCoding) -> dict[str, Any]:
    return {
        "invoice": coding.invoice.uuid,
        "invoice_number": coding.invoice.number,
        "service_date": coding.invoice.service_date,
        "rule_version": coding.rule_version.version if coding.rule_version else None,
        "new_patient": coding.new_patient,
        "minutes": coding.minutes,
        "suggested_code": coding.suggested_code,
        "chosen_code": coding.chosen_code,
        "basis": coding.basis,
        "made_at": coding.made_at,
    }


# Closing a package: its unused sessions settled by its terms -------------------------------


class PackageCloseIn(Schema):
    reason: str = Field(description="completed, course_ended, expired or cancelled")
    note: str = ""


class PackageClosureOut(Schema):
    id: UUID
    package_sale: UUID
    reason: str
    policy: str = Field(description="The sale's terms: refund, credit or forfeit")
    sessions_sold: int
    sessions_used: int
    unused_value: Decimal
    settled_amount: Decimal = Field(
        description="Refunded, kept as credit or forfeited (by `policy`)"
    )
    currency: str
    closed_at: datetime


@router.post(
    "/billing/package-sales/{sale_id}/close",
    response={201: PackageClosureOut},
    summary="Close a package sale and apply its unused-session terms",
    openapi_extra=_problems(
        "No such package sale in the caller's organization (or the patient is not"
        " visible to the caller).",
        "Refused, nothing written; `errors[].field` is `reason` (not one of the"
        " reasons, or `completed` with sessions unused) or `package_sale` (already"
        " closed).",
    ),
)
def close_package(
    request: HttpRequest, sale_id: UUID, payload: PackageCloseIn
) -> Status[dict[str, Any]]:
    """Refund (new refund rows), credit (nothing moves) or forfeit (a `forfeited` row)
    as the terms the package was sold on say; the closure is a new record."""
    user = _user(request, Capability.BILLING_REFUND)
    sale = package_sale_for(user, sale_id, capability=Capability.BILLING_REFUND)
    try:
        closure = packages.close_package(
            sale, reason=payload.reason, note=payload.note, by=user
        )
    except BillingError as exc:
        raise _refused(exc) from None
    return Status(
        201,
        {
            "id": closure.uuid,
            "package_sale": sale.uuid,
            "reason": closure.reason,
            "policy": closure.policy,
            "sessions_sold": closure.sessions_sold,
            "sessions_used": closure.sessions_used,
            "unused_value": closure.unused_value,
            "settled_amount": closure.settled_amount,
            "currency": closure.currency,
            "closed_at": closure.closed_at,
        },
    )
