from typing import Any

from neuroclinic.clinics.models import Device, Location, Organization, Room
from neuroclinic.lib.bidi import NoBidiModelForm


class OrganizationForm(NoBidiModelForm):
    class Meta:
        model = Organization
        fields = ["name", "phone", "email", "website", "mrn_prefix"]


class LocationForm(NoBidiModelForm):
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


class RoomForm(NoBidiModelForm):
    class Meta:
        model = Room
        fields = ["location", "name", "kind", "is_active"]


class DeviceForm(NoBidiModelForm):
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
            "max_output_percent",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left blank, a unit has no limit of its own: 100 % of its output.
        self.fields["max_output_percent"].required = False

    def clean_max_output_percent(self) -> int:
        value: int | None = self.cleaned_data.get("max_output_percent")
        return 100 if value is None else value

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
