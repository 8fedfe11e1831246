from datetime import date
from typing import Any

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.patients import actions
from neuroclinic.patients.models import Patient


def make_patient(
    organization: Organization, *, by: User | None = None, **overrides: Any
) -> Patient:
    """A registered patient, made through the action so MRN, search keys and audit are real."""
    fields: dict[str, Any] = {
        "family_name": "Samplesworth",
        "given_name": "Jordan",
        "birth_date": date(1979, 6, 1),
        "sex_at_birth": Patient.SexAtBirth.MALE,
    } | overrides
    return actions.register_patient(organization, by=by, **fields)


def registration_form(**overrides: str) -> dict[str, str]:
    """A valid registration form post; override a field to make it invalid."""
    return {
        "family_name": "Fictionson",
        "given_name": "Riley",
        "middle_name": "",
        "preferred_name": "",
        "birth_date": "1990-02-14",
        "sex_at_birth": "female",
        "gender_identity": "",
        "pronouns": "",
        "phone": "555-013-0042",
        "email": "riley.fictionson@example.com",
        "address_line1": "",
        "address_line2": "",
        "city": "",
        "state": "",
        "postal_code": "",
        "preferred_language": "English",
    } | overrides
