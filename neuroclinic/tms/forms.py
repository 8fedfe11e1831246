"""Forms of the technician's screen and the course page. They parse; the actions decide."""

from typing import Any

from django import forms

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import GRANTS, Capability
from neuroclinic.clinics.models import Device, Location
from neuroclinic.tms import protocols, screening
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import (
    Interruption,
    MissedSession,
    MotorThreshold,
    SeizureReview,
    SideEffect,
    TmsCourse,
)

YES_NO = [("yes", "Yes"), ("no", "No")]


def add_errors(form: forms.Form, exc: TmsError) -> None:
    """Put an action's refusal on the form: on the field it names, else at the top."""
    for name, messages in exc.errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def physicians(organization_id: int | None) -> Any:
    if organization_id is None:
        return User.objects.none()
    roles = [role.value for role in GRANTS[Capability.ORDER_TMS]]
    return (
        User.objects.filter(
            organization_id=organization_id, is_active=True, groups__name__in=roles
        )
        .distinct()
        .order_by("last_name", "first_name")
    )


class DailyCheckForm(forms.Form):
    """The daily pre-session check (Source: T11 (docs/sources.md)); the action decides the hard stops."""

    supervising_physician = forms.ModelChoiceField(queryset=User.objects.none())

    def __init__(self, *args: Any, organization_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supervising_physician"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = physicians(organization_id)
        for item in screening.DAILY_ITEMS:
            self.fields[item.key] = forms.ChoiceField(
                label=item.question, choices=YES_NO, widget=forms.RadioSelect
            )

    def answers(self) -> dict[str, object]:
        return {
            item.key: self.cleaned_data[item.key] == "yes"
            for item in screening.DAILY_ITEMS
        }


class ScreenForm(forms.Form):
    """The pre-course safety screen (Source: T6 (docs/sources.md))."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in screening.SCREEN_ITEMS:
            self.fields[item.key] = forms.ChoiceField(
                label=item.question, choices=YES_NO, widget=forms.RadioSelect
            )

    def answers(self) -> dict[str, object]:
        return {
            item.key: self.cleaned_data[item.key] == "yes"
            for item in screening.SCREEN_ITEMS
        }


def _client_key() -> forms.UUIDField:
    """Set by the tablet's script for each entry, so a replay from its queue records once."""
    return forms.UUIDField(required=False, widget=forms.HiddenInput)


class SideEffectForm(forms.Form):
    kind = forms.ChoiceField(choices=SideEffect.Kind.choices)
    severity = forms.ChoiceField(choices=SideEffect.Severity.choices)
    description = forms.CharField(required=False, max_length=300)
    client_key = _client_key()


class IntensityForm(forms.Form):
    percent_of_mt = forms.DecimalField(
        label="Intensity (% of MT)", max_digits=5, decimal_places=1, min_value=1
    )
    reason = forms.CharField(max_length=300)
    client_key = _client_key()


class EndForm(forms.Form):
    pulses_delivered = forms.IntegerField(min_value=0, label="Pulses delivered")
    trains_delivered = forms.IntegerField(min_value=0, required=False)
    interruption_reason = forms.ChoiceField(
        choices=[("", "—"), *Interruption.Reason.choices],
        required=False,
        label="If ended early, why",
    )
    interruption_detail = forms.CharField(required=False, max_length=300)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SeizureForm(forms.Form):
    post_ictal_status = forms.CharField(required=False, max_length=300)
    vitals = forms.CharField(required=False, max_length=300)
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SeizureReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=SeizureReview.Decision.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(forms.Form):
    """The prescriber's decision on a screen with cautions (Source: T6 (docs/sources.md))."""

    cleared = forms.ChoiceField(
        label="Decision",
        choices=[("yes", "Cleared for TMS"), ("no", "Not cleared")],
        widget=forms.RadioSelect,
    )
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class ThresholdForm(forms.Form):
    """A motor threshold determination (Source: T5, T8 (docs/sources.md)); the action checks 1-100."""

    value_percent_output = forms.IntegerField(
        label="Motor threshold (% machine output)"
    )
    observation = forms.ChoiceField(choices=MotorThreshold.Observation.choices)
    procedure = forms.ChoiceField(choices=MotorThreshold.Procedure.choices)
    reason = forms.ChoiceField(choices=MotorThreshold.Reason.choices)
    device = forms.ModelChoiceField(queryset=Device.objects.none(), required=False)
    coil = forms.CharField(max_length=100)
    supervising_physician = forms.ModelChoiceField(queryset=User.objects.none())

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        physician = self.fields["supervising_physician"]
        assert isinstance(physician, forms.ModelChoiceField)
        physician.queryset = physicians(organization_id)
        device = self.fields["device"]
        assert isinstance(device, forms.ModelChoiceField)
        device.queryset = Device.objects.filter(
            kind=Device.Kind.TMS_UNIT, location__organization_id=organization_id
        ).order_by("pk")


class CourseOrderForm(forms.Form):
    """A prescriber's course order; the action checks the intensity against the protocol."""

    protocol_code = forms.ChoiceField(
        label="Protocol",
        choices=[(p.code, p.name) for p in protocols.DEFAULT_PROTOCOLS.values()],
    )
    target = forms.ChoiceField(choices=TmsCourse.Target.choices)
    target_detail = forms.CharField(
        required=False, max_length=200, label="Neuronavigation coordinates"
    )
    percent_of_mt = forms.DecimalField(
        label="Intensity (% of MT; blank for the protocol's)",
        required=False,
        max_digits=5,
        decimal_places=1,
    )
    acute_sessions = forms.IntegerField(label="Acute sessions")
    taper = forms.BooleanField(required=False, label="Add the taper")
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    location = forms.ModelChoiceField(queryset=Location.objects.none())

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        location = self.fields["location"]
        assert isinstance(location, forms.ModelChoiceField)
        location.queryset = Location.objects.filter(
            organization_id=organization_id
        ).order_by("name")


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum", max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class MissedSessionForm(forms.Form):
    """A planned day the patient missed; the action checks the day and the make-up limit."""

    planned_on = forms.DateField(
        label="Planned day missed", widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.ChoiceField(choices=MissedSession.Reason.choices)
    detail = forms.CharField(required=False, max_length=300)
    make_up = forms.BooleanField(
        required=False, label="Make it up at the end of the phase"
    )
