"""/api/billing: invoicing a charted TMS session and a visit through the same actions
as the account page; refusals are problem documents and write nothing."""

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
from neuroclinic.billing.models import Invoice
from neuroclinic.billing.tests.test_visits import (  # noqa: F401  (fixtures)
    _session,
    _visit,
    appointment_types,
    tms_priced,
)
from neuroclinic.clinics.models import Organization
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import AppointmentType
from neuroclinic.tms.actions import sessions as tms_sessions
from neuroclinic.tms.models import TmsCourse
from neuroclinic.tms.tests import factories as tms_factories
from neuroclinic.tms.tests.conftest import tms_course  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _post(
    client: Client,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
) -> Any:
    return client.post(
        url, body or {}, content_type="application/json", headers=headers
    )


def _fields(response: Any) -> list[str]:
    assert response["Content-Type"] == PROBLEM
    return [e["field"] for e in response.json().get("errors", [])]


# ---------------------------------------------------------------- TMS sessions


def test_tms_sessions_are_invoiced_over_the_api(
    client: Client,
    tms_course: TmsCourse,  # noqa: F811
    tms_priced: None,  # noqa: F811
    tms: User,
    prescriber: User,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    now = timezone.now()
    first = _session(tms_course, tms, prescriber, now + timedelta(hours=1))
    second = _session(tms_course, tms, prescriber, now + timedelta(days=1, hours=1))
    tms_factories.threshold(
        tms_course.patient,
        tms,
        prescriber,
        value=58,
        now=now + timedelta(days=1, hours=2),
    )
    third = _session(tms_course, tms, prescriber, now + timedelta(days=2, hours=1))
    codes = []
    for session in (first, second, third):
        response = _post(
            client, f"/api/billing/tms-sessions/{session.uuid}/invoice", bearer(billing)
        )
        assert response.status_code == 201, response.content
        body = response.json()
        codes.append([(line["code"], line["units"]) for line in body["lines"]])
        assert Invoice.objects.get(uuid=body["id"]).session_ref == session.uuid
    assert codes == [[("90867", 1)], [("90868", 1)], [("90869", 1)]]
    events = AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_INVOICED, patient=tms_course.patient
    )
    assert events.count() == 3


def test_tms_session_refusals_over_the_api(
    client: Client,
    tms_course: TmsCourse,  # noqa: F811
    tms_priced: None,  # noqa: F811
    tms: User,
    prescriber: User,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    headers = bearer(billing)
    open_session = tms_factories.start(tms_course, tms, prescriber)
    response = _post(
        client, f"/api/billing/tms-sessions/{open_session.uuid}/invoice", headers
    )
    assert response.status_code == 422
    assert _fields(response) == ["session"]
    assert "not ended" in response.json()["detail"]
    empty = tms_sessions.end_session(
        open_session,
        pulses_delivered=0,
        interruption_reason="patient_request",
        now=timezone.now() + timedelta(minutes=2),
        by=tms,
    )
    response = _post(client, f"/api/billing/tms-sessions/{empty.uuid}/invoice", headers)
    assert response.status_code == 422
    assert "No pulses" in response.json()["detail"]
    ended = _session(tms_course, tms, prescriber, timezone.now() + timedelta(days=1))
    url = f"/api/billing/tms-sessions/{ended.uuid}/invoice"
    assert _post(client, url, headers).status_code == 201
    response = _post(client, url, headers)  # invoiced twice
    assert response.status_code == 422
    assert _fields(response) == ["session"]
    assert "already invoiced" in response.json()["detail"]
    assert Invoice.objects.count() == 1


# ---------------------------------------------------------------- visits


@pytest.mark.parametrize(
    ("kind", "minutes", "code"),
    [
        ("consult", None, "90792"),
        ("intake_visit", None, "90792"),
        ("follow_up", 35, "99203"),  # the patient's first service: new patient
    ],
)
def test_visits_are_invoiced_over_the_api(
    client: Client,
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    prescriber: User,
    billing: User,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
    kind: str,
    minutes: int | None,
    code: str,
) -> None:
    visit = _visit(
        patient, appointment_types[kind], prescriber, "checked_in", front_desk
    )
    response = _post(
        client,
        f"/api/billing/visits/{visit.uuid}/invoice",
        bearer(billing),
        {"minutes": minutes},
    )
    assert response.status_code == 201, response.content
    [line] = response.json()["lines"]
    assert (line["code"], line["units"]) == (code, 1)
    event = AuditEvent.objects.get(action=AuditEvent.Action.BILLING_INVOICED)
    assert event.patient_id == patient.pk
    assert event.actor_id == billing.pk


def test_an_established_patients_follow_up_over_the_api(
    client: Client,
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    prescriber: User,
    billing: User,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    _visit(
        patient,
        appointment_types["consult"],
        prescriber,
        "checked_in",
        front_desk,
        starts=timezone.now() - timedelta(days=400),
    )
    visit = _visit(
        patient, appointment_types["follow_up"], prescriber, "checked_in", front_desk
    )
    response = _post(
        client,
        f"/api/billing/visits/{visit.uuid}/invoice",
        bearer(billing),
        {"minutes": 35},
    )
    assert response.status_code == 201
    assert response.json()["lines"][0]["code"] == "99214"


@pytest.mark.parametrize("status", ["cancelled", "late_cancel", "no_show", "booked"])
def test_a_visit_that_did_not_happen_is_refused_over_the_api(
    client: Client,
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    prescriber: User,
    billing: User,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
    status: str,
) -> None:
    visit = _visit(
        patient, appointment_types["consult"], prescriber, status, front_desk
    )
    response = _post(
        client, f"/api/billing/visits/{visit.uuid}/invoice", bearer(billing)
    )
    assert response.status_code == 422
    assert _fields(response) == ["appointment"]
    assert not Invoice.objects.exists()
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.BILLING_INVOICED
    ).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "minutes"),  # a follow-up needs its documented minutes
        ({"minutes": None}, "minutes"),
        ({"minutes": 12}, "minutes"),  # below 99202's 15 for a new patient
        ({"minutes": -5}, "minutes"),
        ({"minutes": "forty"}, "minutes"),
        ({"minutes": 100000}, "minutes"),
    ],
)
def test_bad_minutes_are_refused_over_the_api(
    client: Client,
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    prescriber: User,
    billing: User,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
    body: dict[str, Any],
    field: str,
) -> None:
    visit = _visit(
        patient, appointment_types["follow_up"], prescriber, "checked_in", front_desk
    )
    response = _post(
        client, f"/api/billing/visits/{visit.uuid}/invoice", bearer(billing), body
    )
    assert response.status_code == 422
    assert _fields(response) == [field]
    assert not Invoice.objects.exists()


def test_a_visit_invoiced_twice_is_refused_over_the_api(
    client: Client,
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    prescriber: User,
    billing: User,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    visit = _visit(
        patient, appointment_types["consult"], prescriber, "checked_in", front_desk
    )
    url = f"/api/billing/visits/{visit.uuid}/invoice"
    assert _post(client, url, bearer(billing)).status_code == 201
    response = _post(client, url, bearer(billing))
    assert response.status_code == 422
    assert _fields(response) == ["session"]
    assert "already invoiced" in response.json()["detail"]
    assert Invoice.objects.count() == 1


@pytest.mark.parametrize("what", ["visits", "tms-sessions", "sessions"])
def test_an_unknown_id_is_not_found(
    client: Client,
    billing: User,
    bearer: Callable[[User], dict[str, str]],
    what: str,
) -> None:
    response = _post(
        client,
        f"/api/billing/{what}/00000000-0000-4000-8000-000000000000/invoice",
        bearer(billing),
        {"minutes": 30} if what == "visits" else None,
    )
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert not Invoice.objects.exists()


def test_another_organizations_visit_and_tms_session_are_not_found(
    client: Client,
    tms_course: TmsCourse,  # noqa: F811
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    tms: User,
    prescriber: User,
    front_desk: User,
    outsider: User,
    other_organization: Organization,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    # The outsider holds billing's capabilities, in another clinic.
    outsider.groups.set(User.objects.get(username="billing").groups.all())
    assert outsider.can(Capability.BILLING_CHARGE)
    patient = tms_course.patient
    visit = _visit(
        patient, appointment_types["consult"], prescriber, "checked_in", front_desk
    )
    session = _session(tms_course, tms, prescriber, timezone.now() - timedelta(days=1))
    headers = bearer(outsider)
    for url in (
        f"/api/billing/visits/{visit.uuid}/invoice",
        f"/api/billing/tms-sessions/{session.uuid}/invoice",
    ):
        response = _post(client, url, headers)
        assert response.status_code == 404, url
        assert response["Content-Type"] == PROBLEM
        assert str(patient.uuid) not in response.content.decode()
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("persona", EVERYONE)
def test_visit_invoice_access(
    client: Client,
    persona: str,
    patient: Patient,
    appointment_types: dict[str, AppointmentType],  # noqa: F811
    tms_priced: None,  # noqa: F811
    prescriber: User,
    front_desk: User,
    request: pytest.FixtureRequest,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    visit = _visit(
        patient, appointment_types["consult"], prescriber, "checked_in", front_desk
    )
    headers = {} if persona == "anonymous" else bearer(request.getfixturevalue(persona))
    response = _post(client, f"/api/billing/visits/{visit.uuid}/invoice", headers)
    assert response.status_code == expected_status(
        persona,
        personas_with(Capability.BILLING_CHARGE),
        ok=201,
        anonymous=401,
    )
    assert Invoice.objects.exists() is (response.status_code == 201)


def test_the_openapi_document_describes_the_invoicing_refusals(client: Client) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path, words in (
        ("/api/billing/visits/{appointment_id}/invoice", ("did not happen", "minutes")),
        (
            "/api/billing/tms-sessions/{session_id}/invoice",
            ("did not happen", "invoiced"),
        ),
        ("/api/billing/sessions/{session_id}/invoice", ("discharged", "invoiced")),
    ):
        operation = paths[path]["post"]
        assert "201" in operation["responses"]
        for status in ("401", "403", "404", "422"):
            answer = operation["responses"][status]
            assert answer["content"][PROBLEM]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
        refused = operation["responses"]["422"]["description"]
        assert all(w in refused for w in words), refused
        assert "organization" in operation["responses"]["404"]["description"]
    minutes = paths["/api/billing/visits/{appointment_id}/invoice"]["post"]
    assert "requestBody" in minutes
