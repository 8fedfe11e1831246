"""Names and identifiers refuse Unicode bidirectional controls (U+202E and kin).

An override or isolate character makes text display in another order than it is
stored: "Smith\u202eenoJ" shows as "SmithJone" reversed, so a chart, a ledger
line or a username can look like another (CVE-2021-42574, "Trojan Source").
Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) are refused;
the plain direction marks (U+200E, U+200F, U+061C) that right-to-left text
needs are allowed, since they cannot reorder what follows them.

`NoBidiForm` (Django forms) and `NoBidiSchema` (the API's schemas) check every
text field they hold, so a form or schema of names and identifiers needs only
the base class.
"""

from typing import Any

from django import forms
from ninja import Schema
from pydantic import field_validator

BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, pop, overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
MESSAGE = "Remove the invisible text-direction characters (such as U+202E)."


def has_bidi_controls(value: str) -> bool:
    return not BIDI_CONTROLS.isdisjoint(value)


class NoBidiForm(forms.Form):
    """A form whose text fields refuse bidirectional controls, each with a field error."""

    def clean(self) -> dict[str, Any] | None:
        cleaned: dict[str, Any] = super().clean() or {}
        for name, value in list(cleaned.items()):  # add_error drops the field
            if isinstance(value, str) and has_bidi_controls(value):
                self.add_error(name, MESSAGE)
        return cleaned


class NoBidiModelForm(forms.ModelForm):  # type: ignore[type-arg]  # django-stubs: ModelForm generic
    """A model form whose text fields refuse bidirectional controls."""

    def clean(self) -> dict[str, Any] | None:
        cleaned: dict[str, Any] = super().clean() or {}
        for name, value in list(cleaned.items()):
            if isinstance(value, str) and has_bidi_controls(value):
                self.add_error(name, MESSAGE)
        return cleaned


def refuse_bidi_controls(value: Any) -> Any:
    """Raise ValueError (a 422 naming the field) for text holding bidirectional controls."""
    if isinstance(value, str) and has_bidi_controls(value):
        raise ValueError(MESSAGE)
    return value


class NoBidiSchema(Schema):
    """An API schema whose text fields refuse bidirectional controls (422 naming each)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_bidi_controls(cls, value: Any) -> Any:
        return refuse_bidi_controls(value)
