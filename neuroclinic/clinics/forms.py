from typing import Any

from django import forms

from neuroclinic.clinics.models import Device, Location, Organization, Room


class OrganizationForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Organization
        fields = ["name", "phone", "email", "website", "mrn_prefix"]


class LocationForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Location
        fields = [
            "name",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "phone",
            "time_zone",
            "is_active",
        ]


class RoomForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Room
        fields = ["location", "name", "kind", "is_active"]


class DeviceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Device
        fields = [
            "location",
            "room",
            "kind",
            "name",
            "manufacturer",
            "model_name",
            "serial_number",
            "is_active",
        ]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        room = self.cleaned_data.get("room")
        location = self.cleaned_data.get("location")
        if (
            room is not None
            and location is not None
            and room.location_id != location.pk
        ):
            self.add_error("room", "Choose a room at the device's location.")
        return data
