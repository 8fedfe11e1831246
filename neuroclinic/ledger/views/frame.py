"""What every ledger page shares: the user's own objects by UUID, the chosen
registration, refusals shown on forms, and the frame around each page (status,
last check, inventory clock, open discrepancies and tasks)."""

from typing import Any

from django import forms
from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import Registrant
from neuroclinic.ledger.status import (
    inventory_status,
    latest_check,
    open_discrepancies,
    open_tasks,
    registrants_for,
)


def own_object[M: Model](
    request: AuthenticatedHttpRequest, model: type[M], uuid_value: Any
) -> M:
    """An object of the user's organization by UUID; 404 for others' and for none."""
    manager: QuerySet[M] = model._default_manager.all()
    return get_object_or_404(
        manager, uuid=uuid_value, organization_id=request.user.organization_pk
    )


def chosen_registrant(request: AuthenticatedHttpRequest) -> Registrant | None:
    chosen = request.GET.get("registrant") or request.POST.get("registrant")
    registrants = registrants_for(request.user)
    if chosen:
        try:
            return registrants.get(uuid=chosen)
        except (Registrant.DoesNotExist, ValueError, forms.ValidationError):
            raise Http404("No such registration.") from None
    return registrants.order_by("name", "id").first()


def show_refusal(form: forms.Form, exc: LedgerError) -> None:
    field = exc.field.split(".")[0]
    form.add_error(field if field in form.fields else None, exc.message)


def page_frame(
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


def render_page(
    request: AuthenticatedHttpRequest,
    template: str,
    registrant: Registrant | None,
    **context: Any,
) -> HttpResponse:
    return render(request, template, page_frame(request, registrant) | context)
