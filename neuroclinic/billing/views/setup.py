"""The billing home: price list, packages, the practice's billing identity and clinicians' NPIs."""

from typing import Any

from django import forms
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.billing.actions import setup
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.forms import (
    IdentityForm,
    PackageForm,
    PriceForm,
    ProviderForm,
    add_error,
)
from neuroclinic.billing.models import (
    BillingIdentity,
    Package,
    PackageVersion,
    Price,
    RenderingProvider,
    Service,
)
from neuroclinic.http import AuthenticatedHttpRequest


def _context(request: AuthenticatedHttpRequest, **forms_: forms.Form) -> dict[str, Any]:
    org = request.user.organization_pk
    services = Service.objects.filter(organization_id=org).prefetch_related(
        Prefetch("prices", queryset=Price.objects.order_by("-version"))
    )
    packages = Package.objects.filter(organization_id=org).prefetch_related(
        Prefetch("versions", queryset=PackageVersion.objects.order_by("-version"))
    )
    clinicians = User.objects.filter(
        organization_id=org,
        is_active=True,
        groups__name__in=["prescriber", "medical_director"],
    ).distinct()
    npis = {
        p.user_id: p
        for p in RenderingProvider.objects.filter(organization_id=org).order_by(
            "created_at", "id"
        )
    }
    return {
        "services": services,
        "packages": packages,
        "identity": BillingIdentity.objects.filter(organization_id=org)
        .order_by("-created_at", "-id")
        .first(),
        "clinicians": [(c, npis.get(c.pk)) for c in clinicians],
        "can_setup": request.user.can(Capability.BILLING_SETUP),
        "can_em_rules": request.user.can(Capability.CONFIGURE_EM_RULES),
        "price_form": forms_.get("price_form") or PriceForm(),
        "package_form": forms_.get("package_form") or PackageForm(),
        "identity_form": forms_.get("identity_form") or IdentityForm(),
        "provider_form": forms_.get("provider_form") or ProviderForm(),
    }


@require_capability(Capability.BILLING_VIEW)
@require_http_methods(["GET"])
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "billing/home.html", _context(request))


def _saved_or_again(
    request: AuthenticatedHttpRequest, name: str, form: forms.Form, save: Any
) -> HttpResponse:
    if form.is_valid():
        try:
            save(form.cleaned_data)
            return redirect("billing:home")
        except BillingError as exc:
            add_error(form, exc)
    return render(
        request, "billing/home.html", _context(request, **{name: form}), status=422
    )


@require_capability(Capability.BILLING_SETUP)
@require_http_methods(["POST"])
def set_price(request: AuthenticatedHttpRequest) -> HttpResponse:
    org = request.user.organization
    assert org is not None
    return _saved_or_again(
        request,
        "price_form",
        PriceForm(request.POST),
        lambda d: setup.set_price(org, by=request.user, **d),
    )


@require_capability(Capability.BILLING_SETUP)
@require_http_methods(["POST"])
def set_package(request: AuthenticatedHttpRequest) -> HttpResponse:
    org = request.user.organization
    assert org is not None
    package = Package.objects.filter(
        organization=org, name=request.POST.get("name", "").strip()
    ).first()
    return _saved_or_again(
        request,
        "package_form",
        PackageForm(request.POST),
        lambda d: setup.set_package_terms(org, package=package, by=request.user, **d),
    )


@require_capability(Capability.BILLING_SETUP)
@require_http_methods(["POST"])
def set_identity(request: AuthenticatedHttpRequest) -> HttpResponse:
    org = request.user.organization
    assert org is not None
    return _saved_or_again(
        request,
        "identity_form",
        IdentityForm(request.POST),
        lambda d: setup.save_billing_identity(org, by=request.user, **d),
    )


@require_capability(Capability.BILLING_SETUP)
@require_http_methods(["POST"])
def set_provider(request: AuthenticatedHttpRequest) -> HttpResponse:
    def save(data: dict[str, Any]) -> None:
        clinician = User.objects.filter(
            uuid=data.pop("clinician"), organization_id=request.user.organization_pk
        ).first()
        if clinician is None:
            raise BillingError("No such clinician here.", field="npi_number")
        setup.save_rendering_provider(clinician, by=request.user, **data)

    return _saved_or_again(request, "provider_form", ProviderForm(request.POST), save)
