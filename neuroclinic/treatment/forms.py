"""Forms for protocols, plans and orders. They parse; the actions decide."""

from dataclasses import fields as dataclass_fields
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from neuroclinic.lib.vitals import AlarmThresholds
from neuroclinic.treatment.actions.orders import PrnInput
from neuroclinic.treatment.actions.protocols import PROTOCOL_FIELDS
from neuroclinic.treatment.errors import TreatmentError
from neuroclinic.treatment.models import InfusionOrder, PrnOrder, Protocol

THRESHOLD_FIELDS = [f.name for f in dataclass_fields(AlarmThresholds)]


def add_errors(form: forms.Form, exc: TreatmentError) -> None:
    field = (exc.field or "").split(".")[0]
    form.add_error(field if field in form.fields else None, exc.message)


def prn_lines(items: list[dict[str, Any]]) -> str:
    return "\n".join(
        " | ".join(
            str(item.get(key, ""))
            for key in (
                "drug",
                "dose",
                "unit",
                "route",
                "indication",
                "max_doses_per_session",
            )
        )
        for item in items
    )


def parse_prn_lines(text: str) -> list[PrnInput]:
    """ "Ondansetron | 4 | mg | IV | Nausea or vomiting | 1", one medication a line."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 5:
            raise forms.ValidationError(
                f"Line {number}: write drug | dose | unit | route | indication | max doses."
            )
        try:
            dose = Decimal(parts[1])
        except InvalidOperation:
            raise forms.ValidationError(
                f"Line {number}: the dose must be a number."
            ) from None
        if parts[3] not in PrnOrder.Route.values:
            raise forms.ValidationError(
                f"Line {number}: the route must be one of {', '.join(PrnOrder.Route.values)}."
            )
        found.append(
            PrnInput(
                drug=parts[0],
                dose=dose,
                unit=parts[2] or "mg",
                route=parts[3],
                indication=parts[4],
                max_doses_per_session=int(parts[5])
                if len(parts) > 5 and parts[5].isdigit()
                else 1,
            )
        )
    return found


class ProtocolForm(forms.ModelForm):  # type: ignore[type-arg]  # django-stubs: ModelForm generic
    prn_text = forms.CharField(
        label="As-needed medications",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One a line: drug | dose | unit | route | indication | max doses per infusion.",
    )
    change_note = forms.CharField(
        label="Why this change",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    class Meta:
        model = Protocol
        fields = list(PROTOCOL_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance: Protocol | None = kwargs.get("instance")
        thresholds = instance.alarm_thresholds if instance else {}
        for name in THRESHOLD_FIELDS:
            self.fields[f"alarm_{name}"] = forms.IntegerField(
                label="Alarm: " + name.replace("_", " "),
                required=not name.endswith(("_mmhg", "_bpm", "_percent", "_per_min")),
                initial=thresholds.get(name),
                min_value=0,
            )
        if instance is not None:
            self.fields["prn_text"].initial = prn_lines(instance.prn_medications)

    def changes(self) -> dict[str, Any]:
        values = {name: self.cleaned_data[name] for name in PROTOCOL_FIELDS}
        values["alarm_thresholds"] = {
            name: self.cleaned_data[f"alarm_{name}"] for name in THRESHOLD_FIELDS
        }
        try:
            prn = parse_prn_lines(self.cleaned_data.get("prn_text") or "")
        except forms.ValidationError as exc:
            self.add_error("prn_text", exc)
            raise
        values["prn_medications"] = [
            {
                "drug": p.drug,
                "dose": str(p.dose),
                "unit": p.unit,
                "route": p.route,
                "indication": p.indication,
                "max_doses_per_session": p.max_doses_per_session,
                "source": "clinic",
            }
            for p in prn
        ]
        return values


class SignatureForm(forms.Form):
    password = forms.CharField(
        label="Your password (signs it)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PlanForm(forms.Form):
    induction_protocol = forms.ModelChoiceField(
        queryset=Protocol.objects.none(), label="Induction protocol"
    )
    booster_protocol = forms.ModelChoiceField(
        queryset=Protocol.objects.none(), label="Booster protocol", required=False
    )
    indication = forms.CharField(label="Indication", max_length=200)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        active = Protocol.objects.filter(
            organization_id=organization_id, status=Protocol.Status.ACTIVE
        )
        induction = self.fields["induction_protocol"]
        booster = self.fields["booster_protocol"]
        assert isinstance(induction, forms.ModelChoiceField)
        assert isinstance(booster, forms.ModelChoiceField)
        induction.queryset = active.filter(kind=Protocol.Kind.INDUCTION)
        booster.queryset = active.filter(kind=Protocol.Kind.BOOSTER)
        if induction.queryset.count() == 1:
            induction.initial = induction.queryset.first()
        if booster.queryset.count() == 1:
            booster.initial = booster.queryset.first()


class OrderForm(SignatureForm):
    kind = forms.ChoiceField(label="Order for", choices=InfusionOrder.Kind.choices)
    dose_mg_per_kg = forms.DecimalField(
        label="Dose (mg/kg)", max_digits=5, decimal_places=3
    )
    duration_minutes = forms.IntegerField(label="Over (minutes)", min_value=1)
    dosing_weight_rule = forms.ChoiceField(
        label="Dosing weight",
        choices=[
            ("actual", "Actual"),
            ("ideal", "Ideal (Devine)"),
            ("adjusted", "Adjusted"),
        ],
    )
    max_dose_mg_per_kg = forms.DecimalField(
        label="Ceiling (mg/kg)", max_digits=5, decimal_places=3
    )
    max_dose_mg = forms.DecimalField(
        label="Absolute cap (mg)", max_digits=7, decimal_places=1
    )
    diluent_volume_ml = forms.DecimalField(
        label="Diluent (mL)", max_digits=7, decimal_places=1
    )
    rate_min_percent = forms.IntegerField(
        label="Slowest rate (% of calculated)", min_value=1, max_value=100
    )
    rate_max_percent = forms.IntegerField(
        label="Fastest rate (% of calculated)", min_value=1, max_value=100
    )
    titration_instructions = forms.CharField(
        label="Titration instructions",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    prn_text = forms.CharField(
        label="As-needed medications",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One a line: drug | dose | unit | route | indication | max doses per infusion.",
    )
    reason = forms.CharField(
        label="Reason (for a dose change)", required=False, max_length=300
    )

    field_order = [
        "kind",
        "dose_mg_per_kg",
        "duration_minutes",
        "dosing_weight_rule",
        "max_dose_mg_per_kg",
        "max_dose_mg",
        "diluent_volume_ml",
        "rate_min_percent",
        "rate_max_percent",
        "titration_instructions",
        "prn_text",
        "reason",
        "password",
    ]

    def clean_prn_text(self) -> list[PrnInput]:
        return parse_prn_lines(self.cleaned_data.get("prn_text") or "")

    @staticmethod
    def initial_from(
        protocol: Protocol, kind: str, order: InfusionOrder | None = None
    ) -> dict[str, Any]:
        source: Any = order or protocol
        return {
            "kind": kind,
            "dose_mg_per_kg": source.dose_mg_per_kg,
            "duration_minutes": source.duration_minutes,
            "dosing_weight_rule": source.dosing_weight_rule,
            "max_dose_mg_per_kg": source.max_dose_mg_per_kg,
            "max_dose_mg": source.max_dose_mg,
            "diluent_volume_ml": source.diluent_volume_ml,
            "rate_min_percent": source.rate_min_percent,
            "rate_max_percent": source.rate_max_percent,
            "titration_instructions": source.titration_instructions,
            "prn_text": prn_lines(
                [
                    {
                        "drug": p.drug,
                        "dose": f"{p.dose.normalize():f}",
                        "unit": p.unit,
                        "route": p.route,
                        "indication": p.indication,
                        "max_doses_per_session": p.max_doses_per_session,
                    }
                    for p in order.prn_medications.all()
                ]
                if order is not None
                else protocol.prn_medications
            ),
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=300)
