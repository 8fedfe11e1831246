"""Turning a posted questionnaire into answers, and the alert acknowledgement form."""

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from django import forms
from django.http import QueryDict

from neuroclinic.measures.instruments import Instrument, InvalidResponse, Item, Option
from neuroclinic.measures.models import InstrumentWording, PortalLink, SafetyAlert


@dataclass(frozen=True)
class ItemView:
    """An item as a form shows it: the clinic's wording where it has its own."""

    link_id: str
    text: str
    required: bool
    options: tuple[Option, ...]
    value: int | None
    error: str
    shown_if: str  # "linkId=value" for branching items, else ""


def answers_from_post(
    instrument: Instrument, data: QueryDict | Mapping[str, str]
) -> dict[str, object]:
    """The answers in a form post. Values stay as typed when they are not whole numbers,
    so the scorer reports them against their item; blanks are unanswered."""
    answers: dict[str, object] = {}
    for item in instrument.items:
        raw = data.get(item.link_id)
        if raw is None or str(raw).strip() == "":
            continue
        text = str(raw).strip()
        answers[item.link_id] = int(text) if text.lstrip("-").isdigit() else text
    return answers


def submission_key_from(data: QueryDict) -> UUID | None:
    """The form's idempotency key, or None when it is missing or malformed."""
    try:
        return UUID(str(data.get("submission_key", "")))
    except ValueError:
        return None


def errors_by_item(exc: InvalidResponse) -> tuple[dict[str, str], list[str]]:
    """A scorer's refusal as (first message per item, messages about the whole response)."""
    by_item: dict[str, str] = {}
    general: list[str] = []
    for error in exc.errors:
        if error.link_id:
            by_item.setdefault(error.link_id, error.message)
        else:
            general.append(error.message)
    return by_item, general


def wording_for(organization_id: int, instrument: Instrument) -> dict[str, str]:
    if instrument.wording_redistributable:
        return {}
    return dict(
        InstrumentWording.objects.filter(
            organization_id=organization_id, instrument_code=instrument.code
        ).values_list("link_id", "text")
    )


def item_views(
    instrument: Instrument,
    *,
    wording: Mapping[str, str],
    values: Mapping[str, object],
    errors: Mapping[str, str],
) -> list[ItemView]:
    def shown_if(item: Item) -> str:
        condition = item.enable_when
        return f"{condition.link_id}={condition.answer}" if condition else ""

    return [
        ItemView(
            link_id=item.link_id,
            text=wording.get(item.link_id, item.text),
            required=item.required,
            options=item.options,
            value=values.get(item.link_id)
            if isinstance(values.get(item.link_id), int)
            else None,  # type: ignore[arg-type]
            error=errors.get(item.link_id, ""),
            shown_if=shown_if(item),
        )
        for item in instrument.items
    ]


class SendLinkForm(forms.Form):
    instruments = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    channel = forms.ChoiceField(
        choices=[
            (PortalLink.Channel.EMAIL.value, "Email"),
            (PortalLink.Channel.SMS.value, "Text message"),
            (PortalLink.Channel.NONE.value, "Show me the link to copy"),
        ]
    )

    def __init__(
        self, *args: object, instrument_choices: list[tuple[str, str]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["instruments"].choices = instrument_choices  # type: ignore[attr-defined]


class AcknowledgeForm(forms.Form):
    assessment_response = forms.ChoiceField(
        required=False,
        label="C-SSRS completed for this alert",
        help_text="Or document the assessment below.",
    )
    ideation = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Ideation"
    )
    plan = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Plan"
    )
    intent = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Intent"
    )
    behaviors = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Suicidal behaviour (recent and past)",
    )
    protective_factors = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Protective factors",
    )
    risk_level = forms.ChoiceField(
        choices=SafetyAlert.RiskLevel.choices, widget=forms.RadioSelect
    )
    disposition = forms.ChoiceField(
        choices=SafetyAlert.Disposition.choices, widget=forms.RadioSelect
    )
    disposition_note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Plan and follow-up",
    )


class FlagConcernForm(forms.Form):
    detail = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What worries you",
        max_length=2000,
    )


class AmendForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, label="Why amend"
    )
