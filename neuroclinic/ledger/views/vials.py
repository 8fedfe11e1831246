"""One vial and its movements; the chain of entries, and reversing one."""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.ledger.actions.movements import (
    destroy_on_site,
    reverse_entry,
    send_to_reverse_distributor,
    transfer_container,
    waste_from_container,
)
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.forms import (
    ContainerWasteForm,
    DestroyForm,
    ReversalForm,
    ReverseDistributorForm,
    TransferForm,
)
from neuroclinic.ledger.models import (
    Container,
    LedgerEntry,
)
from neuroclinic.ledger.views.frame import (
    chosen_registrant,
    own_object,
    render_page,
    show_refusal,
)
from neuroclinic.ledger.witness import WitnessForm

VIAL_ACTIONS = {
    "waste": (ContainerWasteForm, Capability.LEDGER_DRAW),
    "transfer": (TransferForm, Capability.LEDGER_RECEIVE),
    "destroy": (DestroyForm, Capability.LEDGER_DESTROY),
    "reverse-distributor": (ReverseDistributorForm, Capability.LEDGER_DESTROY),
}


def _vial_forms(
    request: AuthenticatedHttpRequest,
    container: Container,
    bound: dict[str, forms.Form],
) -> dict[str, forms.Form]:
    made: dict[str, forms.Form] = {}
    for name, (form_class, capability) in VIAL_ACTIONS.items():
        if not request.user.can(capability):
            continue
        if name in bound:
            made[name] = bound[name]
        elif form_class is TransferForm:
            made[name] = TransferForm(container=container, prefix=name)
        else:
            made[name] = form_class(actor=request.user, prefix=name)
    return made


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def vial(request: AuthenticatedHttpRequest, container_uuid: uuid.UUID) -> HttpResponse:
    container = own_object(request, Container, container_uuid)
    return _vial_page(request, container, {})


def _vial_page(
    request: AuthenticatedHttpRequest,
    container: Container,
    bound: dict[str, forms.Form],
) -> HttpResponse:
    entries = container.entries.select_related("patient", "registrant").order_by(
        "registrant_id", "seq"
    )
    return render_page(
        request,
        "ledger/vial.html",
        container.registrant,
        container=container,
        entries=entries,
        vial_forms=_vial_forms(request, container, bound)
        if container.is_in_stock
        else {},
    )


@require_capability(Capability.LEDGER_VIEW)
@require_POST
def vial_step(
    request: AuthenticatedHttpRequest, container_uuid: uuid.UUID, step: str
) -> HttpResponse:
    if step not in VIAL_ACTIONS:
        raise Http404("No such step.")
    form_class, capability = VIAL_ACTIONS[step]
    if not request.user.can(capability):
        raise PermissionDenied
    container = own_object(request, Container, container_uuid)
    if form_class is TransferForm:
        form: forms.Form = TransferForm(request.POST, container=container, prefix=step)
    else:
        form = form_class(request.POST, actor=request.user, prefix=step)
    if not form.is_valid():
        return _vial_page(request, container, {step: form})
    data = form.cleaned_data
    witness = None
    if isinstance(form, WitnessForm):
        witness = form.confirm()
        if witness is None:
            return _vial_page(request, container, {step: form})
    try:
        if step == "waste":
            waste_from_container(
                container,
                volume_ml=data["volume_ml"],
                reason=data["reason"],
                by=request.user,
                witness=witness,
            )
        elif step == "transfer":
            transfer_container(
                container,
                to_storage_location=data["to_storage_location"],
                by=request.user,
                reason=data["reason"],
            )
        elif step == "destroy":
            destroy_on_site(
                container,
                method=data["method"],
                reason=data["reason"],
                by=request.user,
                witness=witness,
            )
        else:
            send_to_reverse_distributor(
                container,
                reverse_distributor=data["reverse_distributor"],
                reason=data["reason"],
                by=request.user,
                witness=witness,
            )
    except LedgerError as exc:
        show_refusal(form, exc)
        return _vial_page(request, container, {step: form})
    messages.success(request, "Recorded.")
    return redirect("ledger:vial", container_uuid=container.uuid)


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def entries(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = chosen_registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    listing = (
        LedgerEntry.objects.filter(registrant=registrant)
        .select_related("container", "patient")
        .order_by("-seq")
    )
    kind = request.GET.get("kind", "")
    if kind in LedgerEntry.Kind.values:
        listing = listing.filter(kind=kind)
    page = Paginator(listing, 50).get_page(request.GET.get("page"))
    return render_page(
        request,
        "ledger/entries.html",
        registrant,
        page=page,
        kind=kind,
        kinds=LedgerEntry.Kind.choices,
    )


@require_capability(Capability.LEDGER_VIEW)
@require_http_methods(["GET", "POST"])
def entry(request: AuthenticatedHttpRequest, entry_uuid: uuid.UUID) -> HttpResponse:
    found = own_object(request, LedgerEntry, entry_uuid)
    form = None
    if request.user.can(Capability.LEDGER_ADJUST):
        form = ReversalForm(request.POST or None, actor=request.user)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            witness = form.confirm()
            if witness is not None:
                try:
                    reversal = reverse_entry(
                        found,
                        reason=form.cleaned_data["reason"],
                        by=request.user,
                        witness=witness,
                    )
                except LedgerError as exc:
                    show_refusal(form, exc)
                else:
                    messages.success(
                        request, f"Entry #{found.seq} reversed by #{reversal.seq}."
                    )
                    return redirect("ledger:entry", entry_uuid=reversal.uuid)
    reversed_by = LedgerEntry.objects.filter(reverses=found).first()
    return render_page(
        request,
        "ledger/entry.html",
        found.registrant,
        entry=found,
        reversed_by=reversed_by,
        form=form,
    )
