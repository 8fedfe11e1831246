"""Ledger pages: capability -> objects of the user's organization -> form -> action -> page.

A refused action (LedgerError) becomes a form error on the field it names, and
nothing is written. Every POST redirects to the page that shows its result.
"""

import logging
import uuid
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.ledger import actions
from neuroclinic.ledger.checks import run_check
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.forms import (
    ContainerWasteForm,
    CountForm,
    DestroyForm,
    DrawForm,
    EscalateForm,
    InventoryForm,
    NotesForm,
    ProductForm,
    ReceiveForm,
    ReceiveItemFormSet,
    RegistrantForm,
    ReportForm,
    ReturnForm,
    ReversalForm,
    ReverseDistributorForm,
    SessionWasteForm,
    StorageLocationForm,
    SupplierForm,
    TaskDoneForm,
    TransferForm,
    VolumeForm,
    WitnessForm,
)
from neuroclinic.ledger.models import (
    ComplianceTask,
    Container,
    Count,
    Discrepancy,
    Inventory,
    LedgerCheck,
    LedgerEntry,
    Receipt,
    Registrant,
    StorageLocation,
)
from neuroclinic.ledger.reports import (
    INVENTORY_COLUMNS,
    ReportKind,
    build_report,
    inventory_csv,
    inventory_rows,
    inventory_summary,
)
from neuroclinic.ledger.status import (
    inventory_status,
    latest_check,
    open_discrepancies,
    open_tasks,
    registrants_for,
    stock,
)
from neuroclinic.ledger.witness import WitnessConfirmation, confirm_witness
from neuroclinic.lib.replica import replica_reads
from neuroclinic.patients.models import Patient

# WeasyPrint narrates every PDF at INFO; the clinic's logs need none of it.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _mine[M: Model](
    request: AuthenticatedHttpRequest, model: type[M], uuid_value: Any
) -> M:
    """An object of the user's organization by UUID; 404 for others' and for none."""
    manager: QuerySet[M] = model._default_manager.all()
    return get_object_or_404(
        manager, uuid=uuid_value, organization_id=request.user.organization_pk
    )


def _registrant(request: AuthenticatedHttpRequest) -> Registrant | None:
    chosen = request.GET.get("registrant") or request.POST.get("registrant")
    registrants = registrants_for(request.user)
    if chosen:
        try:
            return registrants.get(uuid=chosen)
        except (Registrant.DoesNotExist, ValueError, forms.ValidationError):
            raise Http404("No such registration.") from None
    return registrants.order_by("name", "id").first()


def _refused(form: forms.Form, exc: LedgerError) -> None:
    field = exc.field.split(".")[0]
    form.add_error(field if field in form.fields else None, exc.message)


def _confirm(
    request: AuthenticatedHttpRequest, form: WitnessForm, *, optional: bool = False
) -> WitnessConfirmation | None:
    """The witness named on the form, confirmed now; None (with form errors) if not."""
    witness = form.cleaned_data.get("witness")
    if witness is None:
        if optional:
            return None
        form.add_error("witness", "Choose the witness.")
        return None
    try:
        return confirm_witness(
            actor=request.user,
            witness_username=witness.username,
            password=form.cleaned_data.get("witness_password") or "",
            otp_code=form.cleaned_data.get("witness_code") or "",
        )
    except LedgerError as exc:
        _refused(form, exc)
        return None


def _frame(
    request: AuthenticatedHttpRequest, registrant: Registrant | None
) -> dict[str, Any]:
    """What every ledger page shows around its content: the registration, the last check,
    the inventory clock, open discrepancies and tasks."""
    if registrant is None:
        return {"registrant": None, "registrants": registrants_for(request.user)}
    return {
        "registrant": registrant,
        "registrants": registrants_for(request.user),
        "last_check": latest_check(registrant),
        "inventory": inventory_status(registrant),
        "open_discrepancies": list(open_discrepancies(registrant)),
        "open_tasks": list(open_tasks(registrant)),
        "can": {c.name.lower(): request.user.can(c) for c in Capability},
    }


def _page(
    request: AuthenticatedHttpRequest,
    template: str,
    registrant: Registrant | None,
    **context: Any,
) -> HttpResponse:
    return render(request, template, _frame(request, registrant) | context)


# --- dashboard and setup --------------------------------------------------------------


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = _registrant(request)
    if registrant is None:
        return _page(request, "ledger/dashboard.html", None)
    vials = list(stock(registrant))
    recent = (
        LedgerEntry.objects.filter(registrant=registrant)
        .select_related("container", "patient")
        .order_by("-seq")[:15]
    )
    counts = (
        Count.objects.filter(registrant=registrant)
        .select_related("storage_location", "counted_by", "second_counter")
        .order_by("-counted_at", "-id")[:5]
    )
    safes = registrant.storage_locations.filter(is_active=True)
    return _page(
        request,
        "ledger/dashboard.html",
        registrant,
        vials=vials,
        recent=recent,
        counts=counts,
        safes=safes,
        stock_on_hand_mg=registrant.head.stock_on_hand_mg,
    )


@require_capability(Capability.LEDGER_SETUP)
@require_http_methods(["GET", "POST"])
def setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    organization_id = request.user.organization_pk
    registrant = _registrant(request)
    which = request.POST.get("form", "")
    data = request.POST if request.method == "POST" else None
    forms_by_name: dict[str, forms.Form] = {
        "registrant": RegistrantForm(
            data if which == "registrant" else None, organization_id=organization_id
        ),
        "safe": StorageLocationForm(data if which == "safe" else None),
        "product": ProductForm(data if which == "product" else None),
        "supplier": SupplierForm(data if which == "supplier" else None),
    }
    form = forms_by_name.get(which)
    if request.method == "POST" and form is not None and form.is_valid():
        data_ = form.cleaned_data
        organization = request.user.organization
        assert organization is not None
        try:
            if which == "registrant":
                actions.register_registrant(
                    data_.pop("location"), registered_by=request.user, **data_
                )
            elif which == "safe":
                if registrant is None:
                    raise LedgerError("Register the DEA registration first.")
                actions.add_storage_location(registrant, added_by=request.user, **data_)
            elif which == "product":
                actions.add_product(organization, added_by=request.user, **data_)
            else:
                actions.add_supplier(organization, added_by=request.user, **data_)
        except LedgerError as exc:
            _refused(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("ledger:setup")
    from neuroclinic.ledger.models import Product, Supplier

    return _page(
        request,
        "ledger/setup.html",
        registrant,
        forms=forms_by_name,
        products=Product.objects.filter(organization_id=organization_id),
        suppliers=Supplier.objects.filter(organization_id=organization_id),
    )


# --- receiving ----------------------------------------------------------------------


@require_capability(Capability.LEDGER_RECEIVE)
@require_http_methods(["GET", "POST"])
def receive(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = _registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    data = request.POST if request.method == "POST" else None
    form = ReceiveForm(
        data,
        request.FILES if request.method == "POST" else None,
        registrant=registrant,
        initial={"invoice_date": actions.local_date(registrant, timezone.now())},
    )
    items = ReceiveItemFormSet(
        data,
        prefix="items",
        form_kwargs={"organization_id": registrant.organization_id},
    )
    if request.method == "POST" and form.is_valid() and items.is_valid():
        receipt_items = [
            actions.ReceiptItem(
                product=item["product"],
                lot_number=item["lot_number"],
                expiry_date=item["expiry_date"],
                container_count=item["container_count"],
            )
            for item in items.cleaned_data
            if item
        ]
        try:
            receipt = actions.receive_invoice(
                registrant,
                supplier=form.cleaned_data["supplier"],
                invoice_number=form.cleaned_data["invoice_number"],
                invoice_date=form.cleaned_data["invoice_date"],
                storage_location=form.cleaned_data["storage_location"],
                items=receipt_items,
                received_by=request.user,
                scan=form.cleaned_data.get("invoice_scan"),
                notes=form.cleaned_data["notes"],
            )
        except LedgerError as exc:
            if exc.field.startswith("items"):
                form.add_error(None, exc.message)
            else:
                _refused(form, exc)
        else:
            count = receipt.containers.count()
            messages.success(
                request,
                f"Received invoice {receipt.invoice_number}: {count} vial{'s' if count != 1 else ''}.",
            )
            return redirect("ledger:receipt", receipt_uuid=receipt.uuid)
    return _page(request, "ledger/receive.html", registrant, form=form, items=items)


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def receipt(request: AuthenticatedHttpRequest, receipt_uuid: uuid.UUID) -> HttpResponse:
    found = _mine(request, Receipt, receipt_uuid)
    containers = found.containers.select_related("product", "lot").order_by("id")
    return _page(
        request,
        "ledger/receipt.html",
        found.registrant,
        receipt=found,
        containers=containers,
    )


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def receipt_scan(
    request: AuthenticatedHttpRequest, receipt_uuid: uuid.UUID
) -> FileResponse:
    """The invoice scan, to staff of this organization who may see the ledger."""
    found = _mine(request, Receipt, receipt_uuid)
    if not found.invoice_scan:
        raise Http404("This receipt has no scan.")
    extension = (found.invoice_scan.name or "").rsplit(".", 1)[-1]
    response = FileResponse(
        found.invoice_scan.open("rb"),
        as_attachment=True,
        filename=f"invoice-{found.invoice_number}.{extension}",
        content_type=found.scan_content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- sessions -----------------------------------------------------------------------


@require_capability(Capability.LEDGER_DRAW)
@require_http_methods(["GET", "POST"])
def draw(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = _registrant(request)
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
                actions.draw_for_session(
                    form.cleaned_data["container"],
                    session_ref=ref,
                    patient=patient,
                    volume_ml=form.cleaned_data["volume_ml"],
                    drawn_by=request.user,
                )
            except LedgerError as exc:
                _refused(form, exc)
            else:
                messages.success(
                    request,
                    f"Drew {form.cleaned_data['volume_ml']} mL for {patient.display_name}.",
                )
                return redirect("ledger:session", session_ref=ref)
    return _page(request, "ledger/draw.html", registrant, form=form)


def _session_page(
    request: AuthenticatedHttpRequest, ref: uuid.UUID, **forms_: forms.Form
) -> HttpResponse:
    summary = actions.session_summary(ref, organization_id=request.user.organization_pk)
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
    return _page(request, "ledger/session.html", registrant, **context)


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def session(request: AuthenticatedHttpRequest, session_ref: uuid.UUID) -> HttpResponse:
    return _session_page(request, session_ref)


@require_capability(Capability.LEDGER_DRAW)
@require_POST
def session_step(
    request: AuthenticatedHttpRequest, session_ref: uuid.UUID, step: str
) -> HttpResponse:
    summary = actions.session_summary(
        session_ref, organization_id=request.user.organization_pk
    )
    if not summary.entries:
        raise Http404("No such session in the ledger.")
    if step == "administer":
        volume_form = VolumeForm(request.POST, prefix="administer")
        if not volume_form.is_valid():
            return _session_page(request, session_ref, administer_form=volume_form)
        try:
            actions.record_administration(
                session_ref,
                volume_ml=volume_form.cleaned_data["volume_ml"],
                administered_by=request.user,
            )
        except LedgerError as exc:
            _refused(volume_form, exc)
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
    witness = _confirm(request, form) if form.is_valid() else None
    if witness is None:
        return _session_page(request, session_ref, **{f"{step}_form": form})
    try:
        if step == "waste":
            actions.waste_remainder(
                session_ref,
                volume_ml=form.cleaned_data["volume_ml"],
                wasted_by=request.user,
                witness=witness,
                reason=form.cleaned_data["reason"],
            )
        else:
            actions.return_to_stock(
                session_ref,
                volume_ml=form.cleaned_data["volume_ml"],
                returned_by=request.user,
                witness=witness,
                reason=form.cleaned_data["reason"],
            )
    except LedgerError as exc:
        _refused(form, exc)
        return _session_page(request, session_ref, **{f"{step}_form": form})
    messages.success(
        request,
        f"{'Wasted' if step == 'waste' else 'Returned'} {form.cleaned_data['volume_ml']} mL, "
        f"witnessed by {witness.witness.display_name}.",
    )
    return redirect("ledger:session", session_ref=session_ref)


# --- vials and entries ----------------------------------------------------------------

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
    container = _mine(request, Container, container_uuid)
    return _vial_page(request, container, {})


def _vial_page(
    request: AuthenticatedHttpRequest,
    container: Container,
    bound: dict[str, forms.Form],
) -> HttpResponse:
    entries = container.entries.select_related("patient", "registrant").order_by(
        "registrant_id", "seq"
    )
    return _page(
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
    container = _mine(request, Container, container_uuid)
    if form_class is TransferForm:
        form: forms.Form = TransferForm(request.POST, container=container, prefix=step)
    else:
        form = form_class(request.POST, actor=request.user, prefix=step)
    if not form.is_valid():
        return _vial_page(request, container, {step: form})
    data = form.cleaned_data
    witness = None
    if isinstance(form, WitnessForm):
        witness = _confirm(request, form)
        if witness is None:
            return _vial_page(request, container, {step: form})
    try:
        if step == "waste":
            actions.waste_from_container(
                container,
                volume_ml=data["volume_ml"],
                reason=data["reason"],
                wasted_by=request.user,
                witness=witness,
            )
        elif step == "transfer":
            actions.transfer_container(
                container,
                to_storage_location=data["to_storage_location"],
                moved_by=request.user,
                reason=data["reason"],
            )
        elif step == "destroy":
            actions.destroy_on_site(
                container,
                method=data["method"],
                reason=data["reason"],
                destroyed_by=request.user,
                witness=witness,
            )
        else:
            actions.send_to_reverse_distributor(
                container,
                reverse_distributor=data["reverse_distributor"],
                reason=data["reason"],
                shipped_by=request.user,
                witness=witness,
            )
    except LedgerError as exc:
        _refused(form, exc)
        return _vial_page(request, container, {step: form})
    messages.success(request, "Recorded.")
    return redirect("ledger:vial", container_uuid=container.uuid)


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def entries(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = _registrant(request)
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
    return _page(
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
    found = _mine(request, LedgerEntry, entry_uuid)
    form = None
    if request.user.can(Capability.LEDGER_ADJUST):
        form = ReversalForm(request.POST or None, actor=request.user)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            witness = _confirm(request, form)
            if witness is not None:
                try:
                    reversal = actions.reverse_entry(
                        found,
                        reason=form.cleaned_data["reason"],
                        reversed_by=request.user,
                        witness=witness,
                    )
                except LedgerError as exc:
                    _refused(form, exc)
                else:
                    messages.success(
                        request, f"Entry #{found.seq} reversed by #{reversal.seq}."
                    )
                    return redirect("ledger:entry", entry_uuid=reversal.uuid)
    reversed_by = LedgerEntry.objects.filter(reverses=found).first()
    return _page(
        request,
        "ledger/entry.html",
        found.registrant,
        entry=found,
        reversed_by=reversed_by,
        form=form,
    )


# --- counts -------------------------------------------------------------------------


def _safe_contents(safe: StorageLocation) -> list[Container]:
    return list(
        Container.objects.filter(
            storage_location=safe,
            status__in=[Container.Status.SEALED, Container.Status.OPEN],
        )
        .select_related("product", "lot")
        .order_by("lot__expiry_date", "vial_identifier", "id")
    )


@require_capability(Capability.LEDGER_COUNT)
@require_http_methods(["GET", "POST"])
def count_new(request: AuthenticatedHttpRequest, safe_uuid: uuid.UUID) -> HttpResponse:
    safe = _mine(request, StorageLocation, safe_uuid)
    containers = _safe_contents(safe)
    form = CountForm(request.POST or None, actor=request.user, containers=containers)
    if request.method == "POST" and form.is_valid():
        witness = _confirm(request, form)
        if witness is not None:
            try:
                made = actions.record_count(
                    safe,
                    lines=[actions.CountInput(c, v) for c, v in form.counted()],
                    counted_by=request.user,
                    witness=witness,
                    kind=form.cleaned_data["kind"],
                    notes=form.cleaned_data["notes"],
                )
            except LedgerError as exc:
                _refused(form, exc)
            else:
                if made.has_variance:
                    messages.warning(
                        request,
                        "The count differs from the ledger: a discrepancy is open. "
                        "Investigate it today.",
                    )
                else:
                    messages.success(request, "Count recorded: it matches the ledger.")
                return redirect("ledger:count", count_uuid=made.uuid)
    rows = [(c, form[f"counted_{c.uuid}"]) for c in containers]
    return _page(
        request,
        "ledger/count_form.html",
        safe.registrant,
        form=form,
        safe=safe,
        rows=rows,
    )


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def count(request: AuthenticatedHttpRequest, count_uuid: uuid.UUID) -> HttpResponse:
    found = _mine(request, Count, count_uuid)
    return _page(
        request,
        "ledger/count.html",
        found.registrant,
        count=found,
        lines=found.lines.select_related("container__product", "container__lot"),
        discrepancy=found.discrepancies.first(),
    )


# --- discrepancies --------------------------------------------------------------------


@require_capability(Capability.LEDGER_VIEW)
@require_http_methods(["GET", "POST"])
def discrepancy(
    request: AuthenticatedHttpRequest, discrepancy_uuid: uuid.UUID
) -> HttpResponse:
    found = _mine(request, Discrepancy, discrepancy_uuid)
    step = request.POST.get("step", "") if request.method == "POST" else ""
    investigate_form = NotesForm(
        request.POST if step == "investigate" else None, prefix="investigate"
    )
    resolve_form = NotesForm(
        request.POST if step == "resolve" else None, prefix="resolve"
    )
    escalate_form = EscalateForm(
        request.POST if step == "escalate" else None, prefix="escalate"
    )
    if request.method == "POST":
        if not request.user.can(Capability.LEDGER_ADJUST):
            raise PermissionDenied
        form = {
            "investigate": investigate_form,
            "resolve": resolve_form,
            "escalate": escalate_form,
        }.get(step)
        if form is None:
            raise Http404("No such step.")
        if form.is_valid():
            try:
                if step == "investigate":
                    actions.investigate_discrepancy(
                        found,
                        notes=form.cleaned_data["notes"],
                        investigated_by=request.user,
                    )
                    messages.success(request, "Investigation notes saved.")
                elif step == "resolve":
                    actions.resolve_minor_variance(
                        found,
                        notes=form.cleaned_data["notes"],
                        resolved_by=request.user,
                    )
                    messages.success(
                        request, "Resolved as a minor variance; the ledger is adjusted."
                    )
                else:
                    actions.escalate_significant_loss(
                        found,
                        loss_kind=form.cleaned_data["loss_kind"],
                        notes=form.cleaned_data["notes"],
                        escalated_by=request.user,
                    )
                    messages.warning(
                        request,
                        "Escalated: the DEA notice and Form 106 tasks are open below.",
                    )
            except LedgerError as exc:
                _refused(form, exc)
            else:
                return redirect("ledger:discrepancy", discrepancy_uuid=found.uuid)
    return _page(
        request,
        "ledger/discrepancy.html",
        found.registrant,
        discrepancy=found,
        lines=found.lines.select_related("container__product", "container__lot"),
        tasks=found.tasks.order_by("due_date", "id"),
        form_106=getattr(found, "form_106", None),
        adjustments=found.entries.select_related("container").order_by("seq"),
        investigate_form=investigate_form,
        resolve_form=resolve_form,
        escalate_form=escalate_form,
        task_form=TaskDoneForm(),
    )


@require_capability(Capability.LEDGER_ADJUST)
@require_POST
def task_done(request: AuthenticatedHttpRequest, task_uuid: uuid.UUID) -> HttpResponse:
    task = _mine(request, ComplianceTask, task_uuid)
    form = TaskDoneForm(request.POST)
    if form.is_valid():
        try:
            actions.complete_task(
                task, reference=form.cleaned_data["reference"], done_by=request.user
            )
        except LedgerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{task.get_kind_display()}: done.")
    else:
        messages.error(request, "Give a reference for the task.")
    return redirect("ledger:discrepancy", discrepancy_uuid=task.discrepancy.uuid)


# --- inventories --------------------------------------------------------------------


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def inventories(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = _registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    return _page(
        request,
        "ledger/inventories.html",
        registrant,
        inventories=Inventory.objects.filter(registrant=registrant).select_related(
            "taken_by", "second_taker"
        ),
    )


@require_capability(Capability.LEDGER_COUNT)
@require_http_methods(["GET", "POST"])
def inventory_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = _registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    containers = list(stock(registrant))
    form = InventoryForm(
        request.POST or None, actor=request.user, containers=containers
    )
    if request.method == "POST" and form.is_valid():
        witness = _confirm(request, form, optional=True)
        if not form.errors:
            try:
                made = actions.take_inventory(
                    registrant,
                    kind=form.cleaned_data["kind"],
                    time_of_day=form.cleaned_data["time_of_day"],
                    lines=[actions.CountInput(c, v) for c, v in form.counted()],
                    taken_by=request.user,
                    second_taker=witness,
                    notes=form.cleaned_data["notes"],
                )
            except LedgerError as exc:
                _refused(form, exc)
            else:
                messages.success(request, f"{made.get_kind_display()} recorded.")
                return redirect("ledger:inventory", inventory_uuid=made.uuid)
    rows = [(c, form[f"counted_{c.uuid}"]) for c in containers]
    return _page(
        request, "ledger/inventory_form.html", registrant, form=form, rows=rows
    )


def _inventory_context(found: Inventory) -> dict[str, Any]:
    return {
        "inventory_record": found,
        "summary": inventory_summary(found),
        "columns": INVENTORY_COLUMNS,
        "rows": inventory_rows(found),
    }


@require_capability(Capability.LEDGER_REPORT)
@require_GET
def inventory(
    request: AuthenticatedHttpRequest, inventory_uuid: uuid.UUID
) -> HttpResponse:
    found = _mine(request, Inventory, inventory_uuid)
    return _page(
        request, "ledger/inventory.html", found.registrant, **_inventory_context(found)
    )


@require_capability(Capability.LEDGER_REPORT)
@require_GET
def inventory_export(
    request: AuthenticatedHttpRequest, inventory_uuid: uuid.UUID, fmt: str
) -> HttpResponse:
    found = _mine(request, Inventory, inventory_uuid)
    name = f"{found.kind}-inventory-{found.registrant_dea_number}-{found.taken_date:%Y-%m-%d}"
    if fmt == "csv":
        response = HttpResponse(
            inventory_csv(found), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt != "pdf":
        raise Http404("No such format.")
    from weasyprint import HTML  # type: ignore[import-untyped]  # loads pango: only when needed

    html = render_to_string(
        "ledger/inventory_print.html",
        _inventory_context(found)
        | {"printed_at": timezone.now(), "user": request.user},
    )
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


# --- reports and checks ----------------------------------------------------------------


@require_capability(Capability.LEDGER_REPORT)
@require_GET
@replica_reads
def reports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Pick a report and a date range; print it or download it as CSV. Audited."""
    registrant = _registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    today = actions.local_date(registrant, timezone.now())
    form = ReportForm(
        request.GET
        if "kind" in request.GET
        else {
            "kind": ReportKind.ADMINISTRATIONS.value,
            "start_date": today - timedelta(days=30),
            "end_date": today,
        }
    )
    built = None
    if form.is_valid():
        built = build_report(
            ReportKind(form.cleaned_data["kind"]),
            registrant,
            form.cleaned_data["start_date"],
            form.cleaned_data["end_date"],
        )
        fmt = request.GET.get("format", "")
        actions.record_report_access(
            registrant,
            report=built.kind,
            start_date=built.start_date,
            end_date=built.end_date,
            exported=fmt in ("csv", "print"),
            by=request.user,
            rows=len(built.rows),
        )
        if fmt == "csv":
            response = HttpResponse(
                built.as_csv(), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{built.kind}-{registrant.dea_number}-'
                f'{built.start_date:%Y%m%d}-{built.end_date:%Y%m%d}.csv"'
            )
            return response
        if fmt == "print":
            return render(
                request,
                "ledger/report_print.html",
                {"report": built, "printed_at": timezone.now()},
            )
    return _page(request, "ledger/reports.html", registrant, form=form, report=built)


@require_capability(Capability.LEDGER_REPORT)
@require_POST
def run_check_now(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = _registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    check, report = run_check(
        registrant, source=LedgerCheck.Source.WEB, notify=False, ran_by=request.user
    )
    if check.ok:
        messages.success(
            request, f"Ledger intact: {check.entries_checked} entries checked."
        )
    else:
        messages.error(request, report.describe())
    return redirect(
        f"{request.build_absolute_uri('/ledger/')}?registrant={registrant.uuid}"
    )
