"""The ledger's front page (stock, recent entries, counts) and its setup."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.ledger.actions.setup import (
    add_product,
    add_storage_location,
    add_supplier,
    register_registrant,
)
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.forms import (
    ProductForm,
    RegistrantForm,
    StorageLocationForm,
    SupplierForm,
)
from neuroclinic.ledger.models import (
    Count,
    LedgerEntry,
    Product,
    Supplier,
)
from neuroclinic.ledger.status import registrants_for, stock
from neuroclinic.ledger.views.frame import chosen_registrant, render_page, show_refusal


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = chosen_registrant(request)
    if registrant is None:
        return render_page(request, "ledger/dashboard.html", None)
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
    return render_page(
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
    registrant = chosen_registrant(request)
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
                register_registrant(data_.pop("location"), by=request.user, **data_)
            elif which == "safe":
                if registrant is None:
                    raise LedgerError("Register the DEA registration first.")
                add_storage_location(registrant, by=request.user, **data_)
            elif which == "product":
                add_product(organization, by=request.user, **data_)
            else:
                add_supplier(organization, by=request.user, **data_)
        except LedgerError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("ledger:setup")
    return render_page(
        request,
        "ledger/setup.html",
        registrant,
        forms=forms_by_name,
        registrants=registrants_for(request.user).prefetch_related("storage_locations"),
        products=Product.objects.filter(organization_id=organization_id),
        suppliers=Supplier.objects.filter(organization_id=organization_id),
    )
