"""Chart fields in clinic-written templates: only listed names, never template code."""

import pytest

from neuroclinic.letters.fields import LetterFieldError, fill, unknown_fields


@pytest.mark.parametrize(
    ("body", "values", "expected"),
    [
        ("Dear {{ recipient_name }},", {"recipient_name": "Dr Demo"}, "Dear Dr Demo,"),
        ("Dear {{recipient_name}},", {"recipient_name": "Dr Demo"}, "Dear Dr Demo,"),
        ("PHQ-9 {{ phq9_latest }}", {}, "PHQ-9 not recorded"),
        ("No fields", {}, "No fields"),
    ],
)
def test_fill(body: str, values: dict[str, str], expected: str) -> None:
    assert fill(body, values) == expected


@pytest.mark.parametrize(
    ("body", "unknown"),
    [
        ("{{ patient.ssn }}", []),  # not a field token at all: left as text
        ("{{ secret_key }}", ["secret_key"]),
        ("{{ a }} {{ b }} {{ a }}", ["a", "b"]),
        ("{{ patient_name }}", []),
    ],
)
def test_unknown_fields(body: str, unknown: list[str]) -> None:
    assert unknown_fields(body) == unknown


def test_a_template_naming_an_unknown_field_is_refused() -> None:
    with pytest.raises(LetterFieldError):
        fill("{{ settings }}", {})
