"""Forms of the technician's screen and the course page. They parse; the actions decide."""

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import GRANTS, Capability
from neuroclinic.clinics.models import Device, Location
from neuroclinic.tms import adverse_events, postictal, protocols, reads, screening
from neuroclinic.tms.actions import protocols as protocol_actions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import (
    Interruption,
    MissedSession,
    MotorThreshold,
    SeizureReview,
    SideEffect,
    TmsCourse,
    TmsProtocol,
)

YES_NO = [("yes", "Yes"), ("no", "No")]


def add_errors(form: forms.Form, exc: TmsError) -> None:
    """Put an action's refusal on the form: on the field it names, else at the top."""
    for name, messages in exc.errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def _unit_label(unit: Device) -> str:
    return f"{unit.name} (max {unit.max_output_percent} % output)"


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
    # The unit it runs on (offered: reads.default_unit); its maximum output limits the
    # session's intensity. The action refuses anything but an active unit of the clinic.
    device = forms.ModelChoiceField(
        queryset=Device.objects.none(), label="TMS unit", empty_label="Choose the unit"
    )
    # The calendar visit the screen was opened from (?appointment=): its booked unit is
    # the default; the action refuses a visit that is not a booked one of this course.
    appointment = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, organization_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supervising_physician"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = physicians(organization_id)
        unit = self.fields["device"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = (
            Device.objects.none()
            if organization_id is None
            else reads.tms_units(organization_id)
        )
        unit.label_from_instance = _unit_label  # type: ignore[method-assign,assignment]
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


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input read in the clinic's time zone (stored in UTC)."""

    widget = forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
    )

    def __init__(self, *args: Any, zone: str = "UTC", **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(zone)

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        return moment.replace(tzinfo=None).replace(tzinfo=self.zone)


class SeizureForm(forms.Form):
    """The seizure button's form: every detail may follow; the action checks the ranges."""

    post_ictal_status = forms.CharField(
        required=False, max_length=300, label="Post-ictal status (note)"
    )
    vitals_taken_at = LocalDateTimeField(required=False, label="Vitals taken at")
    heart_rate_bpm = forms.IntegerField(required=False, label="Heart rate (beats/min)")
    systolic_mmhg = forms.IntegerField(required=False, label="Systolic BP (mmHg)")
    diastolic_mmhg = forms.IntegerField(required=False, label="Diastolic BP (mmHg)")
    spo2_percent = forms.IntegerField(required=False, label="SpO2 (%)")
    consciousness_avpu = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *postictal.AVPU_CHOICES],
        label="Consciousness (AVPU)",
    )
    gcs_total = forms.IntegerField(required=False, label="GCS total (3-15)")
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, zone: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["vitals_taken_at"]
        assert isinstance(field, LocalDateTimeField)
        field.zone = ZoneInfo(zone)

    def vitals(self) -> postictal.PostIctal:
        d = self.cleaned_data
        return postictal.PostIctal(
            heart_rate_bpm=d.get("heart_rate_bpm"),
            systolic_mmhg=d.get("systolic_mmhg"),
            diastolic_mmhg=d.get("diastolic_mmhg"),
            spo2_percent=d.get("spo2_percent"),
            consciousness_avpu=d.get("consciousness_avpu") or None,
            gcs_total=d.get("gcs_total"),
            taken_at=d.get("vitals_taken_at"),
        )


class SeizureAfterSessionForm(SeizureForm):
    """A seizure after the last session ended (course page): its onset is required."""

    onset_at = LocalDateTimeField(label="Onset")

    field_order = ["onset_at"]

    def __init__(self, *args: Any, zone: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, zone=zone, **kwargs)
        field = self.fields["onset_at"]
        assert isinstance(field, LocalDateTimeField)
        field.zone = ZoneInfo(zone)


class AdverseEventForm(forms.Form):
    """A TMS adverse-event report filed on the course page (a seizure has its own button)."""

    kind = forms.ChoiceField(
        choices=[
            (c, label) for c, label in adverse_events.KIND_CHOICES if c != "seizure"
        ]
    )
    session = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Session (if in one)"
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    severity = forms.ChoiceField(choices=adverse_events.SEVERITY_CHOICES)
    serious = forms.BooleanField(required=False, label="Serious adverse event")
    seriousness = forms.MultipleChoiceField(
        required=False,
        choices=adverse_events.SERIOUSNESS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Why serious",
    )
    onset_at = LocalDateTimeField(label="Onset")
    action_taken = forms.ChoiceField(choices=adverse_events.ACTION_CHOICES)
    outcome = forms.ChoiceField(choices=adverse_events.OUTCOME_CHOICES)

    def __init__(
        self, *args: Any, course: TmsCourse, zone: str = "UTC", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["onset_at"]
        assert isinstance(field, LocalDateTimeField)
        field.zone = ZoneInfo(zone)
        session_field = self.fields["session"]
        assert isinstance(session_field, forms.TypedChoiceField)
        session_field.choices = [
            ("", "—"),
            *(
                (s.pk, f"Session {s.number}")
                for s in course.sessions.order_by("number")
            ),
        ]


class AdverseEventReviewForm(forms.Form):
    causality = forms.ChoiceField(choices=adverse_events.CAUSALITY_CHOICES)
    outcome = forms.ChoiceField(
        choices=adverse_events.OUTCOME_CHOICES, label="Outcome now"
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(
        widget=forms.PasswordInput, label="Your password (signs the review)"
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


class _VersionField(forms.ChoiceField):
    """A choice of the newest versions whose value may also be one since superseded,
    so that the form can say so (CourseOrderForm.clean_protocol_version)."""

    def valid_value(self, value: str) -> bool:
        return True


class CourseOrderForm(forms.Form):
    """A prescriber's course order; the action checks the intensity against the protocol."""

    # The clinic's signed protocols, each at its newest version (set in __init__): the
    # value is the version, so the order is pinned to the version the page showed.
    protocol_version = _VersionField(label="Protocol (signed version)", choices=[])
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
        self.organization_id = organization_id
        version = self.fields["protocol_version"]
        assert isinstance(version, forms.ChoiceField)
        version.choices = [
            (
                str(p.uuid),
                f"{p.name} (version {p.version}, signed by {p.signer_name}"
                + (f" on {p.signed_at:%Y-%m-%d})" if p.signed_at else ")"),
            )
            for p in protocol_actions.orderable(organization_id)
        ]

    def clean_protocol_version(self) -> TmsProtocol:
        """Any signed version of the clinic's: the action refuses one since superseded
        with its own message (a newer version was signed while the page was open)."""
        try:
            value = uuid.UUID(str(self.cleaned_data["protocol_version"]))
        except ValueError:
            value = None
        found = (
            None
            if value is None
            else TmsProtocol.objects.filter(
                uuid=value,
                organization_id=self.organization_id,
                signed_at__isnull=False,
            ).first()
        )
        if found is None:
            raise forms.ValidationError("Choose one of the clinic's signed protocols.")
        return found


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


class ProtocolForm(forms.Form):
    """A TMS protocol version's settings; the action checks them against each other."""

    name = forms.CharField(max_length=100)
    pattern = forms.ChoiceField(
        choices=[
            (protocols.Pattern.RTMS_10HZ.value, "rTMS (trains of single pulses)"),
            (protocols.Pattern.ITBS.value, "Intermittent theta burst"),
        ]
    )
    pulses_per_train = forms.IntegerField(min_value=1)
    train_seconds = forms.DecimalField(max_digits=6, decimal_places=2)
    inter_train_seconds = forms.DecimalField(
        max_digits=6, decimal_places=2, label="Seconds between trains"
    )
    trains_per_session = forms.IntegerField(min_value=1)
    percent_of_mt = forms.DecimalField(
        max_digits=5, decimal_places=1, label="Intensity (% of MT)"
    )
    max_percent_of_mt = forms.DecimalField(
        max_digits=5, decimal_places=1, label="Maximum intensity (% of MT)"
    )
    sessions_per_day = forms.IntegerField(min_value=1)
    min_interval_minutes = forms.IntegerField(
        min_value=0, label="Minimum minutes between sessions of a day"
    )
    treatment_days_per_week = forms.IntegerField(min_value=1)
    acute_weeks_min = forms.IntegerField(
        min_value=1, label="Acute course, weeks (from)"
    )
    acute_weeks_max = forms.IntegerField(min_value=1, label="Acute course, weeks (to)")
    taper_sessions_by_week = forms.CharField(
        required=False,
        label="Taper sessions by week (e.g. 3, 2, 1; blank for none)",
        max_length=40,
    )
    max_makeup_sessions = forms.IntegerField(min_value=0)
    change_note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )

    @staticmethod
    def initial_for(parameters: protocols.ProtocolParameters) -> dict[str, Any]:
        low, high = parameters.acute_weeks
        return {
            "name": parameters.name,
            "pattern": parameters.pattern.value,
            "pulses_per_train": parameters.pulses_per_train,
            "train_seconds": parameters.train_seconds,
            "inter_train_seconds": parameters.inter_train_seconds,
            "trains_per_session": parameters.trains_per_session,
            "percent_of_mt": parameters.percent_of_mt,
            "max_percent_of_mt": parameters.max_percent_of_mt,
            "sessions_per_day": parameters.sessions_per_day,
            "min_interval_minutes": parameters.min_interval_minutes,
            "treatment_days_per_week": parameters.treatment_days_per_week,
            "acute_weeks_min": low,
            "acute_weeks_max": high,
            "taper_sessions_by_week": ", ".join(
                str(n) for n in parameters.taper_sessions_by_week
            ),
            "max_makeup_sessions": parameters.max_makeup_sessions,
        }

    def clean_taper_sessions_by_week(self) -> list[int]:
        text = self.cleaned_data["taper_sessions_by_week"].strip()
        if not text:
            return []
        try:
            return [int(part) for part in text.replace(" ", "").split(",") if part]
        except ValueError:
            raise forms.ValidationError(
                "Numbers separated by commas, e.g. 3, 2, 1."
            ) from None

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in (
                "name",
                "pattern",
                "pulses_per_train",
                "train_seconds",
                "inter_train_seconds",
                "trains_per_session",
                "percent_of_mt",
                "max_percent_of_mt",
                "sessions_per_day",
                "min_interval_minutes",
                "treatment_days_per_week",
                "taper_sessions_by_week",
                "max_makeup_sessions",
            )
        }
        values["acute_weeks"] = [data["acute_weeks_min"], data["acute_weeks_max"]]
        return values


class ProtocolSignForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput, label="Your password (your signature)"
    )
