"""The clinic's E/M time rules as versions (set on a page by the medical director or clinic
admin), and the per-visit choice between an evaluation (90791/90792) and E/M by time.

- A version is validated (starts increase, top band ends after it starts, look-back 1-10
  years, a reason) and refused by field, nothing written.
- A new version applies to visits invoiced after it; an invoice keeps the version it was
  coded under (VisitCoding), with the suggestion, the choice and the basis.
- The choice, on the page and the API; refused combinations are named.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing.actions import em_settings, visits
from neuroclinic.billing.em_rules import DEFAULT_EM_RULES
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import EmRuleVersion, Invoice, VisitCoding
from neuroclinic.billing.tests.test_visits import (  # noqa: F401  (fixtures)
    _visit,
    appointment_types,
    tms_priced,
)
from neuroclinic.clinics.models import Organization
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import AppointmentType

pytestmark = pytest.mark.django_db

NEW = {"99202": 15, "99203": 30, "99204": 45, "99205": 60}
ESTABLISHED = {"99212": 10, "99213": 20, "99214": 30, "99215": 40}


def _change(organization: Organization, by: User, **overrides: Any) -> EmRuleVersion:
    values: dict[str, Any] = {
        "new_patient_starts": dict(NEW),
        "new_patient_top": 74,
        "established_starts": dict(ESTABLISHED),
        "established_top": 54,
        "lookback_years": 3,
        "change_note": "Clinic policy",
    }
    values.update(overrides)
    return em_settings.change_em_rules(organization, by=by, **values)


def test_the_defaults_as_a_version_give_the_same_rules(
    organization: Organization, director: User
) -> None:
    version = _change(organization, director)
    assert version.version == 1
    assert em_settings.rules_of(version) == DEFAULT_EM_RULES
    assert em_settings.current_rules(organization.pk) == (version, DEFAULT_EM_RULES)
    event = AuditEvent.objects.get(action=AuditEvent.Action.BILLING_EM_RULES_CHANGED)
    assert (event.actor, event.data["version"]) == (director, 1)


def test_a_change_is_the_next_version_and_the_old_one_stays(
    organization: Organization, director: User
) -> None:
    first = _change(organization, director)
    second = _change(organization, director, lookback_years=2, change_note="Shorter")
    assert (first.version, second.version) == (1, 2)
    assert EmRuleVersion.objects.get(pk=first.pk).lookback_years == 3
    assert em_settings.current_rules(organization.pk)[1].lookback_years == 2


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"new_patient_starts": {**NEW, "99203": 15}}, "new_99203", "bands_increase"),
        ({"new_patient_starts": {**NEW, "99204": 20}}, "new_99204", "bands_increase"),
        (
            {"established_starts": {**ESTABLISHED, "99212": 0}},
            "established_99212",
            "band_start",
        ),
        ({"established_top": 39}, "established_top", "band_end"),
        ({"lookback_years": 0}, "lookback_years", "lookback"),
        ({"lookback_years": 11}, "lookback_years", "lookback"),
        ({"change_note": "  "}, "change_note", "note"),
    ],
)
def test_bad_rules_are_refused_by_field_and_nothing_written(
    organization: Organization,
    director: User,
    overrides: dict[str, Any],
    field: str,
    code: str,
) -> None:
    with pytest.raises(BillingError) as error:
        _change(organization, director, **overrides)
    assert (error.value.field, error.value.code) == (field, code)
    assert not EmRuleVersion.objects.exists()
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_EM_RULES_CHANGED
    ).exists()


def test_bands_made_by_the_page_are_contiguous(
    organization: Organization, director: User
) -> None:
    version = _change(
        organization,
        director,
        new_patient_starts={**NEW, "99205": 70},
        new_patient_top=None,
    )
    assert version.new_patient_bands == [
        ["99202", 15, 29],
        ["99203", 30, 44],
        ["99204", 45, 69],
        ["99205", 70, None],
    ]


# ------------------------------------------------------------------ the page


@pytest.mark.parametrize("persona", EVERYONE)
def test_the_rules_page_is_for_the_director_and_clinic_admin(
    as_persona: Callable[[str], Client], persona: str
) -> None:
    response = as_persona(persona).get(reverse("billing:em_rules"))
    assert response.status_code == expected_status(
        persona, personas_with(Capability.CONFIGURE_EM_RULES)
    )
    assert personas_with(Capability.CONFIGURE_EM_RULES) == {"admin", "director"}


def _form(**overrides: str) -> dict[str, str]:
    data = {f"new_{c}": str(v) for c, v in NEW.items()} | {
        f"established_{c}": str(v) for c, v in ESTABLISHED.items()
    }
    data |= {"new_top": "74", "established_top": "54", "lookback_years": "2"}
    data |= {"change_note": "Two years, as our payers read it"}
    return data | overrides


def test_the_director_saves_a_version_on_the_page(
    as_persona: Callable[[str], Client],
) -> None:
    client = as_persona("director")
    response = client.post(reverse("billing:em_rules"), _form())
    assert response.status_code == 302
    version = EmRuleVersion.objects.get()
    assert (version.version, version.lookback_years) == (1, 2)
    page = client.get(reverse("billing:em_rules")).content.decode()
    assert "In use: version 1" in page
    assert "Two years, as our payers read it" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"new_99203": "10"}, "99203 must start after 99202 starts (15 min)"),
        ({"lookback_years": "0"}, "greater than or equal to 1"),
        ({"established_top": "20"}, "99215&#x27;s band ends before it starts"),
    ],
)
def test_the_page_refuses_bad_rules_on_the_field(
    as_persona: Callable[[str], Client], overrides: dict[str, str], message: str
) -> None:
    response = as_persona("admin").post(reverse("billing:em_rules"), _form(**overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not EmRuleVersion.objects.exists()


# ------------------------------------------------------------------ invoices keep their version


def test_a_new_version_applies_to_new_invoices_and_old_ones_keep_theirs(
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    organization: Organization,
    prescriber: User,
    director: User,
    billing: User,
    front_desk: User,
) -> None:
    now = timezone.now()
    first = _visit(
        patient,
        appointment_types["follow_up"],
        prescriber,
        "checked_in",
        front_desk,
        starts=now - timedelta(days=2),
    )
    v1 = _change(organization, director)
    invoice = visits.invoice_visit(first, minutes=35, by=billing)
    assert invoice.lines.get().code == "99203"  # new patient, v1 bands
    # The clinic moves 99213 down to 15 minutes: the next follow-up uses it.
    v2 = _change(
        organization,
        director,
        established_starts={**ESTABLISHED, "99213": 15},
        change_note="Payer contract",
    )
    second = _visit(
        patient, appointment_types["follow_up"], prescriber, "checked_in", front_desk
    )
    later = visits.invoice_visit(second, minutes=16, by=billing)
    assert later.lines.get().code == "99213"  # 99212 under v1
    assert VisitCoding.objects.get(invoice=invoice).rule_version == v1
    coding = VisitCoding.objects.get(invoice=later)
    assert (coding.rule_version, coding.new_patient) == (v2, False)
    assert (coding.suggested_code, coding.chosen_code) == ("99213", "99213")
    assert "established patient" in coding.basis
    assert "E/M rules v2" in coding.basis
    assert Invoice.objects.get(pk=invoice.pk).lines.get().code == "99203"


# ------------------------------------------------------------------ the per-visit choice


@pytest.mark.parametrize(
    ("kind", "clinician", "family", "minutes", "code"),
    [
        ("consult", "prescriber", None, None, "90792"),  # the suggestion
        (
            "consult",
            "prescriber",
            "em",
            50,
            "99204",
        ),  # new patient E/M instead of 90792
        ("intake_visit", "prescriber", "em", 30, "99203"),
        ("consult", "nurse", "psych_eval", None, "90791"),
        ("follow_up", "prescriber", "psych_eval", None, "90792"),  # a new patient
        ("follow_up", "prescriber", "em", 45, "99204"),
    ],
)
def test_billing_chooses_evaluation_or_em_per_visit(
    request: pytest.FixtureRequest,
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    billing: User,
    front_desk: User,
    kind: str,
    clinician: str,
    family: str | None,
    minutes: int | None,
    code: str,
) -> None:
    staff = request.getfixturevalue(clinician)
    visit = _visit(patient, appointment_types[kind], staff, "checked_in", front_desk)
    invoice = visits.invoice_visit(visit, minutes=minutes, family=family, by=billing)
    assert invoice.lines.get().code == code
    coding = VisitCoding.objects.get(invoice=invoice)
    assert coding.chosen_code == code
    assert coding.rule_version is None  # no version saved: the built-in rules
    if family and family != ("psych_eval" if kind != "follow_up" else "em"):
        assert coding.basis.startswith("Chosen instead of the suggested")


@pytest.mark.parametrize(
    ("kind", "clinician", "family", "minutes", "established", "field", "code"),
    [
        ("consult", "nurse", "em", 45, False, "family", "em_needs_medical"),
        (
            "follow_up",
            "prescriber",
            "psych_eval",
            None,
            True,
            "family",
            "eval_established",
        ),
        ("consult", "prescriber", "em", None, False, "minutes", "minutes"),
        ("consult", "prescriber", "surgery", None, False, "family", "choice"),
        ("consult", "prescriber", "em", 10, False, "minutes", "visit_too_short"),
    ],
)
def test_refused_combinations_are_named_and_nothing_written(
    request: pytest.FixtureRequest,
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    billing: User,
    front_desk: User,
    prescriber: User,
    kind: str,
    clinician: str,
    family: str,
    minutes: int | None,
    established: bool,
    field: str,
    code: str,
) -> None:
    if established:
        _visit(
            patient,
            appointment_types["consult"],
            prescriber,
            "checked_in",
            front_desk,
            starts=timezone.now() - timedelta(days=30),
        )
    staff = request.getfixturevalue(clinician)
    visit = _visit(patient, appointment_types[kind], staff, "checked_in", front_desk)
    with pytest.raises(BillingError) as error:
        visits.invoice_visit(visit, minutes=minutes, family=family, by=billing)
    assert (error.value.field, error.value.code) == (field, code)
    assert not Invoice.objects.exists()
    assert not VisitCoding.objects.exists()


def test_the_page_shows_the_suggestion_and_bills_the_choice(
    as_persona: Callable[[str], Client],
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    prescriber: User,
    nurse: User,
    front_desk: User,
) -> None:
    consult = _visit(
        patient, appointment_types["consult"], prescriber, "checked_in", front_desk
    )
    client = as_persona("billing")
    account = reverse("billing:account", args=[patient.uuid])
    page = client.get(account).content.decode()
    assert "Suggested: psychiatric evaluation" in page
    assert "with medical services (the clinician prescribes): 90792" in page
    assert 'name="family"' in page
    url = reverse("billing:invoice_visit", args=[patient.uuid, consult.uuid])
    response = client.post(url, {"family": "em", "minutes": "50"})
    assert response.status_code == 302
    assert Invoice.objects.get().lines.get().code == "99204"
    other = _visit(
        patient, appointment_types["consult"], nurse, "checked_in", front_desk
    )
    url = reverse("billing:invoice_visit", args=[patient.uuid, other.uuid])
    response = client.post(url, {"family": "em", "minutes": "50"})
    assert response.status_code == 422
    assert "is billed as 90791" in response.content.decode()
    assert Invoice.objects.count() == 1


def test_the_api_suggests_and_bills_the_choice(
    client: Client,
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    prescriber: User,
    billing: User,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    headers = bearer(billing)
    consult = _visit(
        patient, appointment_types["consult"], prescriber, "checked_in", front_desk
    )
    response = client.get(
        f"/api/billing/visits/{consult.uuid}/suggestion", headers=headers
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["family"], body["new_patient"], body["rule_version"]) == (
        "psych_eval",
        True,
        None,
    )
    assert "90792" in body["basis"]
    url = f"/api/billing/visits/{consult.uuid}/invoice"
    response = client.post(
        url, {"family": "nonsense"}, content_type="application/json", headers=headers
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["family"]
    response = client.post(
        url,
        {"family": "em", "minutes": 61},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201
    assert [line["code"] for line in response.json()["lines"]] == ["99205"]
