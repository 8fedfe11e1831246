from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from neuroclinic.lib.bidi import NoBidiModelForm
from neuroclinic.lib.identifiers import npi_error
from neuroclinic.lib.text import digits
from neuroclinic.patients.models import (
    Allergy,
    CareTeamProvider,
    Contact,
    Diagnosis,
    Medication,
    Patient,
)

OLDEST_AGE_YEARS = 120
DEMOGRAPHIC_FIELDS = [
    "family_name",
    "given_name",
    "middle_name",
    "preferred_name",
    "birth_date",
    "sex_at_birth",
    "gender_identity",
    "pronouns",
    "phone",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "preferred_language",
]


def clean_phone(value: str, *, required: bool = False) -> str:
    value = value.strip()
    if not value:
        if required:
            raise forms.ValidationError("Enter a phone number.")
        return value
    count = len(digits(value))
    if count < 10 or count > 15:
        raise forms.ValidationError(
            "Enter a phone number with its area code, e.g. 555-201-3344."
        )
    return value


class PatientForm(NoBidiModelForm):
    birth_date = forms.DateField(
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a real date, e.g. 1984-03-27."},
    )

    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "off"})}

    def clean_birth_date(self) -> date:
        value: date = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if value > today:
            raise forms.ValidationError("A date of birth cannot be in the future.")
        if value.year < today.year - OLDEST_AGE_YEARS:
            raise forms.ValidationError(
                f"A date of birth more than {OLDEST_AGE_YEARS} years ago is not possible."
            )
        return value

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        for name in ("family_name", "given_name"):
            value = data.get(name)
            if isinstance(value, str) and not value.strip():
                self.add_error(name, "This field is required.")
        return data


class ContactForm(NoBidiModelForm):
    class Meta:
        model = Contact
        fields = ["kind", "name", "relationship", "phone", "email"]

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"], required=True)


class ProviderForm(NoBidiModelForm):
    class Meta:
        model = CareTeamProvider
        fields = ["role", "name", "npi", "practice", "phone", "fax", "email"]

    def clean_npi(self) -> str:
        value = str(self.cleaned_data["npi"]).strip()
        if value:
            error = npi_error(value)
            if error:
                raise forms.ValidationError(error)
        return value

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_fax(self) -> str:
        return clean_phone(self.cleaned_data["fax"])


class DiagnosisForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Diagnosis
        fields = ["icd10_code", "description"]

    def clean_icd10_code(self) -> str:
        return str(self.cleaned_data["icd10_code"]).strip().upper()


class MedicationForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Medication
        fields = ["name", "dose"]


class AllergyForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Allergy
        fields = ["substance", "reaction", "severity"]


class EndEntryForm(forms.Form):
    reason = forms.ChoiceField(choices=Diagnosis.EndReason.choices)
