"""Chart fields in letter templates the clinic writes: `{{ field }}` in Markdown.

The clinic's text is never run as a Django template (that would let a template
reach any attribute): only the names below are replaced, and a template naming
any other field is refused when saved. The filled Markdown is rendered through
`neuroclinic.lib.safe_markdown` (sanitized) when shown or printed.

Pure module: standard library only.
"""

import re

FIELDS: dict[str, str] = {
    "patient_name": "The patient's legal name",
    "patient_birth_date": "Date of birth (YYYY-MM-DD)",
    "recipient_name": "The recipient (referring provider or therapist)",
    "recipient_practice": "The recipient's practice",
    "clinic_name": "The clinic",
    "prescriber_name": "The signing prescriber",
    "today": "Today's date",
    "sessions_completed": "Infusions given in this series",
    "first_session_date": "Date of the first infusion",
    "last_session_date": "Date of the last infusion",
    "phq9_baseline": "PHQ-9 total before the series",
    "phq9_latest": "Latest PHQ-9 total",
    "phq9_change_percent": "Change from baseline, percent (negative is better)",
    "response": "Response (50% or more reduction): yes or no",
    "remission": "Remission (PHQ-9 4 or less): yes or no",
    "adverse_events": "Adverse events recorded in the series",
    "tms_protocol": "TMS course: protocol and target",
    "tms_sessions_completed": "TMS course: sessions completed",
    "tms_first_session_date": "TMS course: date of the first session",
    "tms_last_session_date": "TMS course: date of the last session",
    "tms_side_effects": "TMS course: side effects and seizures recorded",
    "course_scores": "TMS course: a table of every instrument the course recorded "
    "(before, latest, change, response, remission; one instrument per row)",
    "clearance_question": "Clearance request: what the prescriber asks the provider",
    "clearance_reasons": "Clearance request: the intake findings that need clearance",
}

TOKEN = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")


class LetterFieldError(ValueError):
    def __init__(self, unknown: list[str]) -> None:
        self.unknown = unknown
        super().__init__(
            "Unknown field"
            + ("s" if len(unknown) > 1 else "")
            + ": "
            + ", ".join(unknown)
            + ". Use only the fields listed beside the editor."
        )


def unknown_fields(body: str) -> list[str]:
    return sorted({name for name in TOKEN.findall(body) if name not in FIELDS})


def fill(body: str, values: dict[str, str]) -> str:
    """Replace each `{{ field }}`; a field without a value reads "not recorded"."""
    unknown = unknown_fields(body)
    if unknown:
        raise LetterFieldError(unknown)
    return TOKEN.sub(lambda m: values.get(m.group(1)) or "not recorded", body)
