"""Protocols (the medical director), plans and orders (prescribers)."""

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.actions import orders as order_actions
from neuroclinic.treatment.actions import plans as plan_actions
from neuroclinic.treatment.actions import protocols as protocol_actions
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.errors import TreatmentError
from neuroclinic.treatment.forms import (
    THRESHOLD_FIELDS,
    OrderForm,
    PlanForm,
    ProtocolForm,
    ReasonForm,
    SignatureForm,
    add_errors,
)
from neuroclinic.treatment.models import InfusionOrder, Protocol, TreatmentPlan


def _protocol(user: User, protocol_uuid: uuid.UUID) -> Protocol:
    try:
        return Protocol.objects.get(
            uuid=protocol_uuid, organization_id=user.organization_pk
        )
    except Protocol.DoesNotExist:
        raise Http404("No such protocol.") from None


def get_plan_for_user(
    user: User, plan_uuid: uuid.UUID, *, capability: Capability
) -> TreatmentPlan:
    try:
        plan = (
            TreatmentPlan.objects.filter(patient__in=Patient.objects.visible_to(user))
            .select_related(
                "patient", "induction_protocol", "booster_protocol", "created_by"
            )
            .get(uuid=plan_uuid)
        )
    except TreatmentPlan.DoesNotExist:
        raise Http404("No such plan.") from None
    if not user.can(capability):
        raise PermissionDenied
    return plan


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def protocols(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = Protocol.objects.filter(
        organization_id=request.user.organization_pk
    ).select_related("signed_by")
    return render(
        request,
        "treatment/protocols.html",
        {
            "active": [p for p in rows if p.status == Protocol.Status.ACTIVE],
            "drafts": [p for p in rows if p.status == Protocol.Status.DRAFT],
            "retired": [p for p in rows if p.status == Protocol.Status.RETIRED],
            "can_manage": request.user.can(Capability.MANAGE_PROTOCOLS),
            "kinds": list(ProtocolKind),
        },
    )


@require_capability(Capability.MANAGE_PROTOCOLS)
@require_POST
def protocol_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    if kind not in ProtocolKind.__members__.values():
        raise Http404("No such kind of protocol.")
    assert request.user.organization is not None
    draft = protocol_actions.draft_protocol(
        request.user.organization, kind=kind, by=request.user
    )
    messages.success(
        request, "Draft made from the cited defaults: review it, then sign."
    )
    return redirect("treatment:protocol", protocol_uuid=draft.uuid)


def _protocol_rows(protocol: Protocol) -> list[tuple[str, Any, str]]:
    rows = []
    for name in protocol_actions.PROTOCOL_FIELDS:
        field = Protocol._meta.get_field(name)
        rows.append(
            (
                str(getattr(field, "verbose_name", name)),
                getattr(protocol, name),
                protocol.citations.get(name, ""),
            )
        )
    return rows


@require_capability(Capability.VIEW_INFUSIONS)
@require_http_methods(["GET", "POST"])
def protocol(
    request: AuthenticatedHttpRequest, protocol_uuid: uuid.UUID
) -> HttpResponse:
    found = _protocol(request.user, protocol_uuid)
    can_manage = request.user.can(Capability.MANAGE_PROTOCOLS)
    sign_form = SignatureForm(prefix="sign")
    edit_form = ProtocolForm(instance=found, prefix="edit") if can_manage else None
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if "sign-password" in request.POST:
            sign_form = SignatureForm(request.POST, prefix="sign")
            if sign_form.is_valid():
                try:
                    protocol_actions.sign_protocol(
                        found,
                        by=request.user,
                        password=sign_form.cleaned_data["password"],
                    )
                except TreatmentError as exc:
                    add_errors(sign_form, exc)
                else:
                    messages.success(
                        request,
                        f"{found} signed: it is now the clinic's active protocol.",
                    )
                    return redirect("treatment:protocol", protocol_uuid=found.uuid)
        else:
            edit_form = ProtocolForm(
                request.POST,
                instance=Protocol(
                    organization_id=found.organization_id, kind=found.kind
                ),
                prefix="edit",
            )
            if edit_form.is_valid():
                try:
                    changes = edit_form.changes()
                    assert request.user.organization is not None
                    draft = protocol_actions.draft_protocol(
                        request.user.organization,
                        kind=found.kind,
                        by=request.user,
                        base=found,
                        changes=changes,
                        change_note=edit_form.cleaned_data["change_note"],
                    )
                except forms.ValidationError:
                    pass
                except TreatmentError as exc:
                    field = (
                        f"alarm_{exc.field}"
                        if exc.field in THRESHOLD_FIELDS
                        else exc.field or ""
                    )
                    edit_form.add_error(
                        field if field in edit_form.fields else None, exc.message
                    )
                else:
                    messages.success(
                        request,
                        f"Version {draft.version} drafted: sign it to make it active.",
                    )
                    return redirect("treatment:protocol", protocol_uuid=draft.uuid)
    return render(
        request,
        "treatment/protocol.html",
        {
            "protocol": found,
            "rows": _protocol_rows(found),
            "thresholds": sorted(found.alarm_thresholds.items()),
            "threshold_citation": found.citations.get("alarm_thresholds", ""),
            "prn_citation": found.citations.get("prn_medications", ""),
            "can_manage": can_manage,
            "sign_form": sign_form,
            "edit_form": edit_form,
            "versions": Protocol.objects.filter(family=found.family).order_by(
                "-version"
            ),
        },
        status=200,
    )


@require_capability(Capability.WRITE_ORDERS)
@require_http_methods(["GET", "POST"])
def plan_new(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.WRITE_ORDERS
    )
    existing = plan_actions.active_plan(patient)
    if existing is not None:
        return redirect("treatment:plan", plan_uuid=existing.uuid)
    form = PlanForm(request.POST or None, organization_id=request.user.organization_pk)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_actions.create_plan(
                patient,
                induction_protocol=form.cleaned_data["induction_protocol"],
                booster_protocol=form.cleaned_data["booster_protocol"],
                indication=form.cleaned_data["indication"],
                by=request.user,
            )
        except TreatmentError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Plan created. Sign the induction order next.")
            return redirect("treatment:plan", plan_uuid=plan.uuid)
    return render(
        request,
        "treatment/plan_new.html",
        {
            "patient": patient,
            "form": form,
            "blocks": plan_actions.intake_blocks(patient),
        },
        status=200,
    )


def _plan_page(
    request: AuthenticatedHttpRequest,
    plan: TreatmentPlan,
    *,
    status: int = 200,
    **bound: forms.Form,
) -> HttpResponse:
    status_ = plan_actions.plan_status(plan)
    active = order_actions.active_order(plan)
    next_kind = (
        InfusionOrder.Kind.INDUCTION
        if status_.phase.value == "induction"
        else InfusionOrder.Kind.BOOSTER
    )
    protocol = (
        plan.induction_protocol
        if next_kind == InfusionOrder.Kind.INDUCTION
        else plan.booster_protocol
    )
    order_form = bound.get("order_form")
    if order_form is None and protocol is not None:
        order_form = OrderForm(
            initial=OrderForm.initial_from(
                protocol,
                next_kind,
                active if active and active.kind == next_kind else None,
            ),
            prefix="order",
        )
    sessions = plan.sessions.select_related("room").order_by("-checked_in_at")
    return render(
        request,
        "treatment/plan.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "status": status_,
            "active_order": active,
            "orders": plan.orders.select_related(
                "signed_by", "protocol"
            ).prefetch_related("prn_medications"),
            "order_form": order_form,
            "next_kind": next_kind,
            "changing": bool(active and active.kind == next_kind),
            "discontinue_form": bound.get("discontinue_form")
            or ReasonForm(prefix="discontinue"),
            "end_form": bound.get("end_form") or ReasonForm(prefix="end"),
            "can_order": request.user.can(Capability.WRITE_ORDERS),
            "sessions": sessions,
        },
        status=status,
    )


@require_capability(Capability.VIEW_INFUSIONS)
@require_GET
def plan(request: AuthenticatedHttpRequest, plan_uuid: uuid.UUID) -> HttpResponse:
    plan = get_plan_for_user(
        request.user, plan_uuid, capability=Capability.VIEW_INFUSIONS
    )
    with transaction.atomic():
        record(
            AuditEvent.Action.PLAN_VIEWED,
            actor=request.user,
            patient=plan.patient,
            subject=plan,
        )
    return _plan_page(request, plan)


@require_capability(Capability.WRITE_ORDERS)
@require_POST
def sign_order(request: AuthenticatedHttpRequest, plan_uuid: uuid.UUID) -> HttpResponse:
    found = get_plan_for_user(
        request.user, plan_uuid, capability=Capability.WRITE_ORDERS
    )
    form = OrderForm(request.POST, prefix="order")
    if not form.is_valid():
        return _plan_page(request, found, order_form=form)
    data = form.cleaned_data
    active = order_actions.active_order(found, data["kind"])
    try:
        order = order_actions.sign_order(
            found,
            kind=data["kind"],
            by=request.user,
            password=data["password"],
            dose_mg_per_kg=data["dose_mg_per_kg"],
            duration_minutes=data["duration_minutes"],
            dosing_weight_rule=data["dosing_weight_rule"],
            max_dose_mg_per_kg=data["max_dose_mg_per_kg"],
            max_dose_mg=data["max_dose_mg"],
            diluent_volume_ml=data["diluent_volume_ml"],
            rate_min_percent=data["rate_min_percent"],
            rate_max_percent=data["rate_max_percent"],
            titration_instructions=data["titration_instructions"],
            prn=data["prn_text"],
            reason=data["reason"],
            supersedes=active,
        )
    except TreatmentError as exc:
        add_errors(form, exc)
        return _plan_page(request, found, order_form=form)
    messages.success(request, f"Order signed: {order.summary()}.")
    return redirect("treatment:plan", plan_uuid=found.uuid)


@require_capability(Capability.WRITE_ORDERS)
@require_POST
def discontinue_order(
    request: AuthenticatedHttpRequest, plan_uuid: uuid.UUID
) -> HttpResponse:
    found = get_plan_for_user(
        request.user, plan_uuid, capability=Capability.WRITE_ORDERS
    )
    form = ReasonForm(request.POST, prefix="discontinue")
    order = order_actions.active_order(found)
    if order is None:
        raise Http404("No active order.")
    if form.is_valid():
        try:
            order_actions.discontinue_order(
                order, by=request.user, reason=form.cleaned_data["reason"]
            )
        except TreatmentError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Order discontinued.")
            return redirect("treatment:plan", plan_uuid=found.uuid)
    return _plan_page(request, found, discontinue_form=form)


@require_capability(Capability.WRITE_ORDERS)
@require_POST
def end_plan(request: AuthenticatedHttpRequest, plan_uuid: uuid.UUID) -> HttpResponse:
    found = get_plan_for_user(
        request.user, plan_uuid, capability=Capability.WRITE_ORDERS
    )
    form = ReasonForm(request.POST, prefix="end")
    if form.is_valid():
        try:
            plan_actions.end_plan(
                found, by=request.user, reason=form.cleaned_data["reason"]
            )
        except TreatmentError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Plan ended.")
            return redirect("patients:chart", patient_uuid=found.patient.uuid)
    return _plan_page(request, found, end_form=form)
