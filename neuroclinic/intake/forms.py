"""Forms for staff (consult queue, conversion, decisions, consent forms, rules) and the portal packet."""

import json
from typing import Any

from django import forms
from django.http import QueryDict

from neuroclinic.accounts.models import User
from neuroclinic.intake import eligibility, packet
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsultRequest,
    EligibilityDecision,
    IntakeDocument,
    IntakeSettings,
    PortalSignInLink,
)
from neuroclinic.lib.bidi import NoBidiForm
from neuroclinic.patients.models import Patient


class ConsultUpdateForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            c
            for c in ConsultRequest.Status.choices
            if c[0] != ConsultRequest.Status.CONVERTED
        ]
    )
    assigned_to = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label="Assigned to"
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            organization_id=organization_id, is_active=True
        ).order_by("first_name", "last_name")


class ConsultNoteForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, label="Add a note"
    )


class ConvertForm(NoBidiForm):
    given_name = forms.CharField(max_length=100, label="Legal given name")
    family_name = forms.CharField(max_length=100, label="Legal family name")
    birth_date = forms.DateField(
        label="Date of birth", widget=forms.DateInput(attrs={"type": "date"})
    )
    # Starts empty: a clinical fact the person converting must choose, never a default.
    sex_at_birth = forms.ChoiceField(
        choices=[("", "Choose..."), *Patient.SexAtBirth.choices],
    )
    existing = forms.UUIDField(required=False, widget=forms.HiddenInput)
    confirm_new = forms.BooleanField(
        required=False, label="None of these is the same person: register a new patient"
    )


class SendLinkForm(forms.Form):
    channel = forms.ChoiceField(
        choices=[
            (PortalSignInLink.Channel.EMAIL.value, "Email"),
            (PortalSignInLink.Channel.SMS.value, "Text message"),
            (
                PortalSignInLink.Channel.SHOWN.value,
                "Show me the link to give the patient",
            ),
        ],
        label="Send by",
    )


class ReminderForm(forms.Form):
    channel = forms.ChoiceField(
        choices=[
            (PortalSignInLink.Channel.EMAIL.value, "Email"),
            (PortalSignInLink.Channel.SMS.value, "Text message"),
        ],
        label="Remind by",
    )


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=IntakeDocument.Kind.choices, label="What is it?")
    file = forms.FileField(label="File (PDF, JPEG or PNG, up to 10 MB)")


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=EligibilityDecision.Outcome.choices,
        widget=forms.RadioSelect,
        label="Decision",
    )
    conditions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Conditions (for “eligible with conditions”)",
    )
    clearance_provider_name = forms.CharField(
        required=False, max_length=200, label="Provider to clear the patient"
    )
    clearance_provider_practice = forms.CharField(
        required=False, max_length=200, label="Their practice"
    )
    clearance_provider_fax = forms.CharField(
        required=False, max_length=30, label="Their fax"
    )
    clearance_provider_email = forms.EmailField(
        required=False, max_length=200, label="Their email"
    )
    clearance_question = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="What you ask them",
    )
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason (for “not eligible”, or for eligible over an exclusion or a required fact not answered)",
    )
    referral_resources = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Referral resources for the patient",
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label="Your password, to sign",
    )


class ConsentDocumentForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 20}),
        help_text="Markdown. Patients sign exactly this text; publishing makes a new version.",
    )


class IntakeSettingsForm(forms.ModelForm):  # type: ignore[type-arg]  # django-stubs: ModelForm generic
    class Meta:
        model = IntakeSettings
        fields = [
            "message_pending",
            "message_eligible",
            "message_eligible_with_conditions",
            "message_needs_clearance",
            "message_not_eligible",
            "referral_resources",
        ]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in fields}


class RulesForm(forms.Form):
    overrides = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        required=False,
        help_text='JSON: {"rule_id": {"enabled": false} | {"severity": "caution"} | {"params": {"name": 170}}}',
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Why the change"
    )

    def clean_overrides(self) -> dict[str, Any]:
        text = self.cleaned_data["overrides"].strip() or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Not valid JSON: {exc.msg} (line {exc.lineno})."
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Write an object: { ... }.")
        try:
            eligibility.configured_rules(value)
        except eligibility.InvalidOverrides as exc:
            raise forms.ValidationError(str(exc)) from None
        return value


def consent_kind_choices() -> list[tuple[str, str]]:
    return list(ConsentDocument.Kind.choices)


# The portal packet ---------------------------------------------------------------------


def section_data(key: str, post: QueryDict) -> dict[str, Any]:
    """A posted section as the packet stores it. List sections post rows as `<field>-<n>`."""
    if key in packet.LIST_FIELDS:
        names = packet.LIST_FIELDS[key]
        indexes = sorted(
            {
                int(name.rsplit("-", 1)[1])
                for name in post
                if "-" in name
                and name.rsplit("-", 1)[1].isdigit()
                and name.rsplit("-", 1)[0] in names
            }
        )[:30]
        return {
            "rows": [
                {field: post.get(f"{field}-{i}", "") for field in names}
                for i in indexes
            ],
            packet.NONE_FLAGS[key]: post.get(packet.NONE_FLAGS[key]) == "on",
        }
    data: dict[str, Any] = {}
    for name in post:
        if name in ("csrfmiddlewaretoken", "section", "next"):
            continue
        value = post.get(name, "")
        data[name] = value == "on" if name.endswith("_unknown") else value
    return data
