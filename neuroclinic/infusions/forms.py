"""Forms of the infusion tablet screen. They parse; the actions decide."""

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from neuroclinic.clinics.models import Room
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import AdverseEvent, InfusionSession
from neuroclinic.infusions.recovery import ALDRETE_CRITERIA, MOAAS_LABELS, AldreteItem
from neuroclinic.ledger.models import Container
from neuroclinic.ledger.witness import WitnessedWasteForm, WitnessForm
from neuroclinic.lib.vitals import ECG_RHYTHMS
from neuroclinic.treatment.models import PrnOrder

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
STRENGTHS = [
    ("10", "10 mg/mL"),
    ("50", "50 mg/mL"),
    ("100", "100 mg/mL (must be diluted)"),
]


def add_errors(form: forms.Form, exc: InfusionError) -> None:
    """Put an action's refusal on the form: on the field it names, else at the top."""
    for name, messages in exc.errors.items():
        field = name.split(".")[0]
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


class TabletForm(forms.Form):
    """Every tablet form carries a key the tablet made, so a resend after a dropped
    connection is recorded once, and the time the nurse pressed the button."""

    client_key = forms.UUIDField(required=False, widget=forms.HiddenInput)
    occurred_at = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("client_key", uuid.uuid4())
        super().__init__(*args, **kwargs)

    def clean_occurred_at(self) -> datetime | None:
        text = self.cleaned_data.get("occurred_at") or ""
        if not text:
            return None
        moment = parse_datetime(text)
        if moment is None or timezone.is_naive(moment):
            raise forms.ValidationError("The time sent by the tablet is not readable.")
        return moment


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input read in the clinic's time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)

    def __init__(self, *args: Any, zone: str = "UTC", **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", [LOCAL_FORMAT, "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(zone)

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        return moment.replace(tzinfo=None).replace(tzinfo=self.zone)


class RoomChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # django-stubs: generic field
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.location.name} · {obj.name}"


class ContainerChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # django-stubs: generic field
    def label_from_instance(self, obj: Any) -> str:
        return (
            f"{obj.vial_identifier} · {obj.product.strength} · lot {obj.lot.lot_number} · "
            f"{obj.balance_ml} mL left ({obj.get_status_display().lower()})"
        )


class PrnChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # django-stubs: generic field
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.drug} {obj.dose_text} {obj.route} — {obj.indication}"


class EventChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # django-stubs: generic field
    zone = ZoneInfo("UTC")

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.onset_at.astimezone(self.zone):%H:%M} {obj}"


class CheckInForm(forms.Form):
    room = RoomChoiceField(queryset=Room.objects.none(), label="Room")
    spacing_override_reason = forms.CharField(
        label="Reason to check in over the protocol's rhythm (only when refused for it)",
        required=False,
        max_length=500,
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["room"]
        assert isinstance(field, RoomChoiceField)
        field.queryset = (
            Room.objects.filter(
                location__organization_id=organization_id,
                kind=Room.Kind.INFUSION,
                is_active=True,
            )
            .select_related("location")
            .order_by("location__name", "name")
        )


class ChecklistForm(forms.Form):
    weight = forms.CharField(
        label="Today's weight",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    weight_unit = forms.ChoiceField(
        label="Unit", choices=[("kg", "kg"), ("lb", "lb")], initial="kg"
    )
    height_cm = forms.DecimalField(
        label="Height (cm)",
        required=False,
        max_digits=5,
        decimal_places=1,
        help_text="For ideal or adjusted body weight.",
    )
    last_solids_at = LocalDateTimeField(label="Last solid food", required=False)
    last_clear_liquids_at = LocalDateTimeField(
        label="Last clear liquids", required=False
    )
    escort_name = forms.CharField(label="Escort's name", required=False, max_length=200)
    escort_phone = forms.CharField(
        label="Escort's phone", required=False, max_length=30
    )
    escort_confirmed = forms.BooleanField(
        label="I confirmed the escort will take the patient home", required=False
    )
    pregnancy_status = forms.ChoiceField(
        label="Pregnancy status",
        choices=InfusionSession.PregnancyStatus.choices,
        required=False,
    )
    pregnancy_note = forms.CharField(label="Note", required=False, max_length=200)

    def __init__(self, *args: Any, zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("last_solids_at", "last_clear_liquids_at"):
            field = self.fields[name]
            assert isinstance(field, LocalDateTimeField)
            field.zone = ZoneInfo(zone)


class VitalsForm(TabletForm):
    systolic_mmhg = forms.CharField(label="Systolic", max_length=4)
    diastolic_mmhg = forms.CharField(label="Diastolic", max_length=4)
    heart_rate_bpm = forms.CharField(label="Heart rate", max_length=4)
    spo2_percent = forms.CharField(label="SpO2 %", max_length=4)
    respiratory_rate_per_min = forms.CharField(label="Resp. rate", max_length=4)
    etco2_mmhg = forms.CharField(label="EtCO2", max_length=4, required=False)
    # Optional (issue #14 item 8); checked with the reading (lib/vitals.check_ecg_rhythm).
    ecg_rhythm = forms.ChoiceField(
        label="ECG rhythm",
        required=False,
        choices=[("", "Not recorded"), *ECG_RHYTHMS.items()],
    )
    ecg_rhythm_other = forms.CharField(
        label="If other: rhythm seen", max_length=100, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in (
            "systolic_mmhg",
            "diastolic_mmhg",
            "heart_rate_bpm",
            "spo2_percent",
            "respiratory_rate_per_min",
            "etco2_mmhg",
        ):
            self.fields[name].widget.attrs.update(
                {"inputmode": "numeric", "autocomplete": "off", "class": "vital-input"}
            )


class DoseForm(forms.Form):
    concentration_mg_per_ml = forms.TypedChoiceField(
        label="Vial strength", choices=STRENGTHS, coerce=str, initial="50"
    )
    diluent_volume_ml = forms.DecimalField(
        label="Diluent in the bag (mL)", max_digits=7, decimal_places=1, min_value=0
    )


class DoseCheckForm(WitnessForm):
    pass


class DrawForm(forms.Form):
    container = ContainerChoiceField(queryset=Container.objects.none(), label="Vial")
    volume_ml = forms.DecimalField(
        label="Volume drawn (mL)", max_digits=6, decimal_places=2, min_value=0
    )

    def __init__(
        self,
        *args: Any,
        containers: list[Container],
        suggested: Container | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["container"]
        assert isinstance(field, forms.ModelChoiceField)
        order = {c.pk: i for i, c in enumerate(containers)}
        field.queryset = Container.objects.filter(pk__in=list(order)).select_related(
            "product", "lot"
        )
        # The offer keeps the plan's order (infusions/vials.py), best first.
        field.choices = [("", "Choose a vial")] + [
            (c.pk, field.label_from_instance(c)) for c in containers
        ]
        # Preselect only a vial that can work; otherwise the nurse must choose.
        if suggested is not None:
            self.initial.setdefault("container", suggested.pk)


class ReasonForm(TabletForm):
    reason = forms.CharField(label="Reason", max_length=300, required=False)


class PauseForm(TabletForm):
    reason = forms.CharField(label="Why pause", max_length=300)


class ResumeForm(TabletForm):
    reason = forms.CharField(label="Note (optional)", max_length=300, required=False)


class RateForm(TabletForm):
    rate_ml_per_hour = forms.DecimalField(
        label="New rate (mL/h)", max_digits=7, decimal_places=1, min_value=0
    )
    reason = forms.CharField(label="Why change the rate", max_length=300)


class StopForm(TabletForm):
    completed = forms.ChoiceField(
        label="How it ended",
        choices=[("yes", "Completed as ordered"), ("no", "Stopped early")],
        widget=forms.RadioSelect,
        initial="yes",
    )
    reason = forms.CharField(
        label="Reason (required when stopped early)", max_length=300, required=False
    )
    volume_infused_ml = forms.DecimalField(
        label="Volume infused (mL, from the pump)",
        max_digits=7,
        decimal_places=2,
        min_value=0,
        required=False,
    )


class AdverseEventForm(TabletForm):
    kind = forms.ChoiceField(label="What", choices=AdverseEvent.Kind.choices)
    severity = forms.ChoiceField(
        label="Severity",
        choices=AdverseEvent.Severity.choices,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(label="Description", max_length=500, required=False)
    intervention = forms.CharField(
        label="Intervention (besides medication)", max_length=500, required=False
    )


class PrnForm(TabletForm):
    prn_order = PrnChoiceField(
        queryset=PrnOrder.objects.none(), label="Medication (as ordered)"
    )
    dose = forms.DecimalField(
        label="Dose given", max_digits=7, decimal_places=3, min_value=0, required=False
    )
    adverse_event = EventChoiceField(
        queryset=AdverseEvent.objects.none(), label="For event", required=False
    )
    note = forms.CharField(label="Note", max_length=300, required=False)

    def __init__(self, *args: Any, session: InfusionSession, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        prn = self.fields["prn_order"]
        assert isinstance(prn, forms.ModelChoiceField)
        prn.queryset = PrnOrder.objects.filter(order_id=session.order_id)
        event = self.fields["adverse_event"]
        assert isinstance(event, forms.ModelChoiceField)
        event.queryset = AdverseEvent.objects.filter(session=session)
        assert isinstance(event, EventChoiceField)
        event.zone = ZoneInfo(session.location.time_zone)


class SedationForm(TabletForm):
    score = forms.TypedChoiceField(
        label="MOAA/S",
        choices=[
            (score, f"{score} — {label}")
            for score, label in sorted(MOAAS_LABELS.items(), reverse=True)
        ],
        coerce=int,
        widget=forms.RadioSelect,
    )


class CadssForm(TabletForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, 7):
            self.fields[f"cadss6-{n}"] = forms.TypedChoiceField(
                label=f"Item {n}",
                choices=[(v, str(v)) for v in range(5)],
                coerce=int,
                widget=forms.RadioSelect,
            )

    def answers(self) -> dict[str, object]:
        return {f"cadss6-{n}": self.cleaned_data[f"cadss6-{n}"] for n in range(1, 7)}


class RecoveryForm(TabletForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            AldreteItem.ACTIVITY: "Activity",
            AldreteItem.RESPIRATION: "Respiration",
            AldreteItem.CIRCULATION: "Circulation",
            AldreteItem.CONSCIOUSNESS: "Consciousness",
            AldreteItem.SPO2: "Oxygen saturation",
        }
        for item, label in labels.items():
            criteria = ALDRETE_CRITERIA[item]
            self.fields[str(item)] = forms.TypedChoiceField(
                label=label,
                choices=[
                    (points, f"{points} — {criteria[points]}") for points in (2, 1, 0)
                ],
                coerce=int,
                widget=forms.RadioSelect,
            )
        self.fields["moaas_score"] = forms.TypedChoiceField(
            label="MOAA/S",
            choices=[("", "Not assessed")]
            + [
                (score, f"{score} — {label}")
                for score, label in sorted(MOAAS_LABELS.items(), reverse=True)
            ],
            coerce=int,
            empty_value=None,
            required=False,
        )


class DischargeForm(forms.Form):
    escort_name = forms.CharField(
        label="Escort taking the patient home", max_length=200
    )
    instructions_channel = forms.ChoiceField(
        label="Discharge instructions given",
        choices=[
            ("paper", "On paper (print the PDF)"),
            ("email", "By email"),
            ("sms", "By text message"),
        ],
        widget=forms.RadioSelect,
        initial="paper",
    )


class WasteForm(WitnessedWasteForm):
    """The remainder, wasted with a witness: the ledger's form."""


class SignForm(forms.Form):
    password = forms.CharField(
        label="Your password (signs the note)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    takeover_reason = forms.CharField(
        label="Taking over from the nurse who ran it? Say why",
        required=False,
        max_length=250,
    )


class AddendumForm(forms.Form):
    text = forms.CharField(label="Addendum", widget=forms.Textarea(attrs={"rows": 3}))


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label="What you did (optional)", max_length=300, required=False
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label="Why cancel", max_length=200)
