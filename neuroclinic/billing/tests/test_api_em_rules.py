"""/api/billing/em-rules and a patient's visit codings over the API: who may read and who
may change the rules, every bad input refused by field as problem+json with nothing
written, and the codings through the patient's door (audited)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing.actions import visits
from neuroclinic.billing.models import EmRuleVersion
from neuroclinic.billing.tests.test_em_settings import ESTABLISHED, NEW, _change
from neuroclinic.billing.tests.test_visits import (  # noqa: F401  (fixtures)
    _visit,
    appointment_types,
    tms_priced,
)
from neuroclinic.clinics.models import Organization
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import AppointmentType

pytestmark = pytest.mark.django_db

URL = "/api/billing/em-rules"


def _payload(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "new_patient_starts": dict(NEW),
        "new_patient_top": 74,
        "established_starts": dict(ESTABLISHED),
        "established_top": 54,
        "lookback_years": 3,
        "change_note": "Payer contract (test)",
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize("persona", EVERYONE)
def test_who_reads_the_rules(
    client: Client,
    persona: str,
    request: pytest.FixtureRequest,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    headers = {} if persona == "anonymous" else bearer(request.getfixturevalue(persona))
    response = client.get(URL, headers=headers)
    readers = personas_with(Capability.BILLING_VIEW) | personas_with(
        Capability.CONFIGURE_EM_RULES
    )
    assert response.status_code == expected_status(persona, readers, anonymous=401)
    if response.status_code != 200:
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("persona", EVERYONE)
def test_who_changes_the_rules(
    client: Client,
    persona: str,
    request: pytest.FixtureRequest,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    headers = {} if persona == "anonymous" else bearer(request.getfixturevalue(persona))
    response = client.post(
        URL, _payload(), content_type="application/json", headers=headers
    )
    assert response.status_code == expected_status(
        persona,
        personas_with(Capability.CONFIGURE_EM_RULES),
        anonymous=401,
        ok=201,
    )
    assert EmRuleVersion.objects.count() == (1 if response.status_code == 201 else 0)


def test_defaults_then_versions_listed_and_read(
    client: Client,
    organization: Organization,
    director: User,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    headers = bearer(billing)
    before = client.get(URL, headers=headers).json()
    assert before["current"]["version"] is None  # the built-in defaults
    assert before["versions"] == []
    assert before["current"]["established_bands"][1] == {
        "code": "99213",
        "low_minutes": 20,
        "high_minutes": 29,
    }
    created = client.post(
        URL,
        _payload(established_starts={**ESTABLISHED, "99213": 15}),
        content_type="application/json",
        headers=bearer(director),
    )
    assert created.status_code == 201, created.content
    assert created.json()["version"] == 1
    assert created.json()["established_bands"][0]["high_minutes"] == 14
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.BILLING_EM_RULES_CHANGED
        ).count()
        == 1
    )
    _change(organization, director, lookback_years=2, change_note="Second")
    listed = client.get(URL, headers=headers).json()
    assert [v["version"] for v in listed["versions"]] == [2, 1]
    assert listed["current"]["lookback_years"] == 2
    one = client.get(f"{URL}/1", headers=headers)
    assert one.json()["change_note"] == "Payer contract (test)"
    assert one.json()["created_by"] == director.username
    missing = client.get(f"{URL}/9", headers=headers)
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"


def test_another_clinics_version_is_not_found(
    client: Client,
    other_organization: Organization,
    director: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    _change(other_organization, director)
    assert client.get(f"{URL}/1", headers=bearer(director)).status_code == 404
    assert client.get(URL, headers=bearer(director)).json()["versions"] == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"change_note": "  "}, "change_note"),
        ({"lookback_years": 0}, "lookback_years"),
        ({"lookback_years": 11}, "lookback_years"),
        ({"new_patient_starts": {**NEW, "99203": 10}}, "new_patient_starts.99203"),
        (
            {"new_patient_starts": {k: v for k, v in NEW.items() if k != "99204"}},
            "new_patient_starts.99204",
        ),
        ({"new_patient_starts": {**NEW, "99999": 80}}, "new_patient_starts.99999"),
        (
            {"established_starts": {**ESTABLISHED, "99212": 0}},
            "established_starts.99212",
        ),
        (
            {"established_starts": {**ESTABLISHED, "99215": 601}},
            "established_starts.99215",
        ),
        ({"established_top": 30}, "established_top"),
        ({"new_patient_top": 5000}, "new_patient_top"),
    ],
)
def test_bad_rules_are_refused_by_field_and_nothing_written(
    client: Client,
    director: User,
    bearer: Callable[[User], dict[str, str]],
    overrides: dict[str, Any],
    field: str,
) -> None:
    response = client.post(
        URL,
        _payload(**overrides),
        content_type="application/json",
        headers=bearer(director),
    )
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert EmRuleVersion.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        '{"lookback_years": "three"}',
        '{"new_patient_starts": [1, 2], "established_starts": {}, "lookback_years": 3,'
        ' "change_note": "x"}',
    ],
)
def test_malformed_bodies_are_problems_not_500(
    client: Client, director: User, bearer: Callable[[User], dict[str, str]], body: str
) -> None:
    response = client.post(
        URL, body, content_type="application/json", headers=bearer(director)
    )
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"
    assert EmRuleVersion.objects.count() == 0


def test_a_patients_visit_codings_over_the_api(
    client: Client,
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    organization: Organization,
    prescriber: User,
    director: User,
    billing: User,
    front_desk: User,
    nurse: User,
    outsider: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    visit = _visit(
        patient,
        appointment_types["follow_up"],
        prescriber,
        "checked_in",
        front_desk,
        starts=timezone.now() - timedelta(days=1),
    )
    version = _change(organization, director)
    invoice = visits.invoice_visit(visit, minutes=35, family="em", by=billing)
    url = f"/api/billing/patients/{patient.uuid}/visit-codings"
    response = client.get(url, headers=bearer(billing))
    assert response.status_code == 200
    (coding,) = response.json()
    assert coding["invoice"] == str(invoice.uuid)
    assert coding["rule_version"] == version.version
    assert (coding["suggested_code"], coding["chosen_code"]) == ("99203", "99203")
    assert coding["new_patient"] is True
    assert coding["minutes"] == 35
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_ACCOUNT_VIEWED, patient=patient
    ).exists()
    # Another clinic's nurse: no billing capability, refused before the patient's door.
    assert client.get(url, headers=bearer(outsider)).status_code == 403
    # Another clinic's biller: this clinic's patient is as unknown.
    outsider.groups.set(User.objects.get(username="billing").groups.all())
    outsider = User.objects.get(pk=outsider.pk)  # capabilities are read once per object
    assert outsider.can(Capability.BILLING_VIEW)
    other = client.get(url, headers=bearer(outsider))
    assert other.status_code == 404
    assert other.json()["detail"] == "No such record."
    unknown = client.get(
        "/api/billing/patients/00000000-0000-0000-0000-000000000000/visit-codings",
        headers=bearer(billing),
    )
    assert unknown.status_code == 404
    assert unknown["Content-Type"] == "application/problem+json"
