"""Initial and biennial inventories: list, take, read, print and export."""

import logging
import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.ledger.actions.counts import CountInput
from neuroclinic.ledger.actions.inventory import take_inventory
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.forms import InventoryForm
from neuroclinic.ledger.models import Inventory
from neuroclinic.ledger.reports import (
    INVENTORY_COLUMNS,
    inventory_csv,
    inventory_rows,
    inventory_summary,
)
from neuroclinic.ledger.status import stock
from neuroclinic.ledger.views.frame import (
    chosen_registrant,
    own_object,
    render_page,
    show_refusal,
)
from neuroclinic.lib.replica import replica_reads

# WeasyPrint narrates every PDF at INFO; the clinic's logs need none of it.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def inventories(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = chosen_registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    return render_page(
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
    registrant = chosen_registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    containers = list(stock(registrant))
    form = InventoryForm(
        request.POST or None, actor=request.user, containers=containers
    )
    if request.method == "POST" and form.is_valid():
        witness = form.confirm()
        if not form.errors:
            try:
                made = take_inventory(
                    registrant,
                    kind=form.cleaned_data["kind"],
                    time_of_day=form.cleaned_data["time_of_day"],
                    lines=[CountInput(c, v) for c, v in form.counted()],
                    by=request.user,
                    second_taker=witness,
                    notes=form.cleaned_data["notes"],
                )
            except LedgerError as exc:
                show_refusal(form, exc)
            else:
                messages.success(request, f"{made.get_kind_display()} recorded.")
                return redirect("ledger:inventory", inventory_uuid=made.uuid)
    rows = [(c, form[f"counted_{c.uuid}"]) for c in containers]
    return render_page(
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
    found = own_object(request, Inventory, inventory_uuid)
    return render_page(
        request, "ledger/inventory.html", found.registrant, **_inventory_context(found)
    )


@require_capability(Capability.LEDGER_REPORT)
@require_GET
@replica_reads
def inventory_export(
    request: AuthenticatedHttpRequest, inventory_uuid: uuid.UUID, fmt: str
) -> HttpResponse:
    found = own_object(request, Inventory, inventory_uuid)
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
