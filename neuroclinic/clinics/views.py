from typing import cast

from django.contrib import messages
from django.db.models import Prefetch
from django.forms import ModelChoiceField, ModelForm
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.clinics import actions
from neuroclinic.clinics.forms import (
    DeviceForm,
    LocationForm,
    OrganizationForm,
    RoomForm,
)
from neuroclinic.clinics.models import Device, Location, Room
from neuroclinic.http import AuthenticatedHttpRequest

KINDS: dict[str, tuple[type[Location | Room | Device], type[ModelForm]]] = {  # type: ignore[type-arg]
    "location": (Location, LocationForm),
    "room": (Room, RoomForm),
    "device": (Device, DeviceForm),
}


@require_capability(Capability.MANAGE_CLINIC)
@require_http_methods(["GET", "POST"])
def clinic_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    organization = request.user.organization
    assert organization is not None
    form = OrganizationForm(request.POST or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        actions.save_clinic_object(
            form.instance, changed_fields=form.changed_data, by=request.user
        )
        messages.success(request, "Clinic details saved.")
        return redirect("clinics:settings")
    locations = Location.objects.filter(organization=organization).prefetch_related(
        "hours",
        Prefetch("rooms", queryset=Room.objects.order_by("name")),
        Prefetch("devices", queryset=Device.objects.select_related("room")),
    )
    return render(
        request, "clinics/settings.html", {"form": form, "locations": locations}
    )


@require_capability(Capability.MANAGE_CLINIC)
@require_http_methods(["GET", "POST"])
def edit_object(
    request: AuthenticatedHttpRequest, kind: str, object_uuid: str | None = None
) -> HttpResponse:
    if kind not in KINDS:
        return redirect("clinics:settings")
    model, form_class = KINDS[kind]
    organization = request.user.organization
    assert (
        organization is not None
    )  # require_capability admits staff of an organization
    instance = None
    if object_uuid is not None:
        owner = "organization" if model is Location else "location__organization"
        instance = get_object_or_404(model, uuid=object_uuid, **{owner: organization})
    form = form_class(request.POST or None, instance=instance)
    # Only this organization's locations and rooms may be chosen.
    if "location" in form.fields:
        location_field = cast(ModelChoiceField, form.fields["location"])  # type: ignore[type-arg]
        location_field.queryset = Location.objects.filter(organization=organization)
    if "room" in form.fields:
        room_field = cast(ModelChoiceField, form.fields["room"])  # type: ignore[type-arg]
        room_field.queryset = Room.objects.filter(location__organization=organization)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        if isinstance(obj, Location):
            obj.organization = organization
        actions.save_clinic_object(
            obj, changed_fields=form.changed_data, by=request.user
        )
        messages.success(request, "Saved.")
        return redirect("clinics:settings")
    return render(
        request,
        "clinics/object_form.html",
        {"form": form, "kind": kind, "instance": instance},
    )
