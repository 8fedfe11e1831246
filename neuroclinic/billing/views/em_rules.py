"""The clinic's office-visit (E/M) time rules: the medical director or clinic admin
sees the current version and the history and saves the next version (no patient data)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.billing.actions.em_settings import (
    ESTABLISHED_CODES,
    NEW_PATIENT_CODES,
    change_em_rules,
    current_rules,
)
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.forms import add_error
from neuroclinic.billing.models import EmRuleVersion
from neuroclinic.http import AuthenticatedHttpRequest


def _minute(label: str, *, required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, min_value=1, max_value=600, required=required
    )


class EmRulesForm(forms.Form):
    """Each code's first minute; the top band's last minute (empty: no end)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for prefix, who, codes in (
            ("new", "New patient", NEW_PATIENT_CODES),
            ("established", "Established patient", ESTABLISHED_CODES),
        ):
            for code in codes:
                self.fields[f"{prefix}_{code}"] = _minute(f"{who}: {code} from minute")
            self.fields[f"{prefix}_top"] = _minute(
                f"{who}: {codes[-1]} up to minute (empty: no end)", required=False
            )
        self.fields["lookback_years"] = forms.IntegerField(
            label="New patient: no professional service in the last … years",
            min_value=1,
            max_value=10,
        )
        self.fields["change_note"] = forms.CharField(
            label="Why the rules change", max_length=500
        )


def _initial(organization_id: int) -> dict[str, Any]:
    _, rules = current_rules(organization_id)
    initial: dict[str, Any] = {"lookback_years": rules.lookback_years}
    for prefix, bands in (
        ("new", rules.new_patient),
        ("established", rules.established),
    ):
        for band in bands:
            initial[f"{prefix}_{band.code}"] = band.low_minutes
        initial[f"{prefix}_top"] = bands[-1].high_minutes
    return initial


@require_capability(Capability.CONFIGURE_EM_RULES)
@require_http_methods(["GET", "POST"])
def em_rules_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    org = request.user.organization_pk
    form = EmRulesForm(request.POST or None, initial=_initial(org))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            assert request.user.organization is not None
            try:
                change_em_rules(
                    request.user.organization,
                    new_patient_starts={c: data[f"new_{c}"] for c in NEW_PATIENT_CODES},
                    new_patient_top=data["new_top"],
                    established_starts={
                        c: data[f"established_{c}"] for c in ESTABLISHED_CODES
                    },
                    established_top=data["established_top"],
                    lookback_years=data["lookback_years"],
                    change_note=data["change_note"],
                    by=request.user,
                )
            except BillingError as exc:
                add_error(form, exc)
            else:
                messages.success(
                    request,
                    "New E/M rules saved as a new version: visits invoiced from now on"
                    " use them.",
                )
                return redirect("billing:em_rules")
        status = 422
    version, rules = current_rules(org)
    return render(
        request,
        "billing/em_rules.html",
        {
            "form": form,
            "version": version,
            "rules": rules,
            "versions": EmRuleVersion.objects.filter(organization_id=org)
            .select_related("created_by")
            .order_by("-version")[:20],
        },
        status=status,
    )
