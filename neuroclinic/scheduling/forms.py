"""Forms of the calendar pages: a series to propose and book; cancel with a reason."""

from datetime import date, time
from typing import Any

from django import forms
from django.utils import timezone

from neuroclinic.clinics.models import Location


class SeriesForm(forms.Form):
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), to_field_name="uuid"
    )
    start = forms.DateField(
        label="First infusion on or after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    preferred_time = forms.TimeField(
        required=False,
        label="Preferred time",
        widget=forms.TimeInput(attrs={"type": "time", "step": 900}),
        help_text="Optional: the planner meets it where it can.",
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Location.objects.filter(
            organization_id=organization_id, is_active=True
        )

    def clean_start(self) -> date:
        start: date = self.cleaned_data["start"]
        if start < timezone.localdate():
            raise forms.ValidationError("Choose today or a later day.")
        return start

    def preferred(self) -> list[time]:
        at = self.cleaned_data.get("preferred_time")
        return [at] if at else []


class BookSeriesForm(forms.Form):
    """The proposal's times (adjusted or not), as UTC ISO timestamps."""

    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), to_field_name="uuid"
    )
    starts = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Location.objects.filter(
            organization_id=organization_id, is_active=True
        )


class CheckInForm(forms.Form):
    spacing_override_reason = forms.CharField(
        max_length=500,
        required=False,
        label="Reason to check in over the protocol's rhythm",
        help_text="Only when the check-in is refused for the days between infusions, the "
        "weekly maximum or the booster interval; nurses and prescribers only.",
    )


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=300)
