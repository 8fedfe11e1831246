"""A patient's session on the ledger's own pages: draw, administer, waste, return."""

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.ledger.actions.sessions import (
    draw_for_session,
    record_administration,
    return_to_stock,
    session_summary,
    waste_remainder,
)
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.forms import (
    DrawForm,
    ReturnForm,
    SessionWasteForm,
    VolumeForm,
)
from neuroclinic.ledger.models import Registrant
from neuroclinic.ledger.status import stock
from neuroclinic.ledger.views.frame import chosen_registrant, render_page, show_refusal
from neuroclinic.patients.models import Patient


@require_capability(Capability.LEDGER_DRAW)
@require_http_methods(["GET", "POST"])
def draw(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = chosen_registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    form = DrawForm(request.POST or None, containers=stock(registrant))
    if request.method == "POST" and form.is_valid():
        mrn = form.cleaned_data["patient_mrn"].strip().upper()
        patient = Patient.objects.visible_to(request.user).filter(mrn=mrn).first()
        if patient is None:
            form.add_error("patient_mrn", "No patient with that MRN at this clinic.")
        else:
            ref = request.POST.get("session_ref") or str(uuid.uuid4())
            try:
                draw_for_session(
                    form.cleaned_data["container"],
                    session_ref=ref,
                    patient=patient,
                    volume_ml=form.cleaned_data["volume_ml"],
                    by=request.user,
                )
            except LedgerError as exc:
                show_refusal(form, exc)
            else:
                messages.success(
                    request,
                    f"Drew {form.cleaned_data['volume_ml']} mL for {patient.display_name}.",
                )
                return redirect("ledger:session", session_ref=ref)
    return render_page(request, "ledger/draw.html", registrant, form=form)


def _session_page(
    request: AuthenticatedHttpRequest, ref: uuid.UUID, **forms_: forms.Form
) -> HttpResponse:
    summary = session_summary(ref, organization_id=request.user.organization_pk)
    if not summary.entries:
        raise Http404("No such session in the ledger.")
    assert summary.registrant_id is not None
    registrant = Registrant.objects.select_related("location", "head").get(
        pk=summary.registrant_id
    )
    context: dict[str, Any] = {
        "summary": summary,
        "patient": summary.entries[0].patient,
        "administer_form": VolumeForm(
            prefix="administer", initial={"volume_ml": summary.outstanding_ml or None}
        ),
        "waste_form": SessionWasteForm(
            actor=request.user,
            prefix="waste",
            initial={"volume_ml": summary.outstanding_ml or None},
        ),
        "return_form": ReturnForm(actor=request.user, prefix="return"),
    } | forms_
    return render_page(request, "ledger/session.html", registrant, **context)


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def session(request: AuthenticatedHttpRequest, session_ref: uuid.UUID) -> HttpResponse:
    return _session_page(request, session_ref)


@require_capability(Capability.LEDGER_DRAW)
@require_POST
def session_step(
    request: AuthenticatedHttpRequest, session_ref: uuid.UUID, step: str
) -> HttpResponse:
    summary = session_summary(session_ref, organization_id=request.user.organization_pk)
    if not summary.entries:
        raise Http404("No such session in the ledger.")
    if step == "administer":
        volume_form = VolumeForm(request.POST, prefix="administer")
        if not volume_form.is_valid():
            return _session_page(request, session_ref, administer_form=volume_form)
        try:
            record_administration(
                session_ref,
                volume_ml=volume_form.cleaned_data["volume_ml"],
                by=request.user,
            )
        except LedgerError as exc:
            show_refusal(volume_form, exc)
            return _session_page(request, session_ref, administer_form=volume_form)
        messages.success(
            request,
            f"Recorded {volume_form.cleaned_data['volume_ml']} mL administered.",
        )
        return redirect("ledger:session", session_ref=session_ref)
    if step not in ("waste", "return"):
        raise Http404("No such step.")
    form: SessionWasteForm | ReturnForm = (
        SessionWasteForm(request.POST, actor=request.user, prefix="waste")
        if step == "waste"
        else ReturnForm(request.POST, actor=request.user, prefix="return")
    )
    witness = form.confirm() if form.is_valid() else None
    if witness is None:
        return _session_page(request, session_ref, **{f"{step}_form": form})
    try:
        if step == "waste":
            waste_remainder(
                session_ref,
                volume_ml=form.cleaned_data["volume_ml"],
                by=request.user,
                witness=witness,
                reason=form.cleaned_data["reason"],
            )
        else:
            return_to_stock(
                session_ref,
                volume_ml=form.cleaned_data["volume_ml"],
                by=request.user,
                witness=witness,
                reason=form.cleaned_data["reason"],
            )
    except LedgerError as exc:
        show_refusal(form, exc)
        return _session_page(request, session_ref, **{f"{step}_form": form})
    messages.success(
        request,
        f"{'Wasted' if step == 'waste' else 'Returned'} {form.cleaned_data['volume_ml']} mL, "
        f"witnessed by {witness.witness.display_name}.",
    )
    return redirect("ledger:session", session_ref=session_ref)
