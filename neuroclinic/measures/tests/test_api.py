"""The measures API contract (issue #3): a patient's responses and alerts.

Instruments and scoring: test_api_scoring.py.

Other tools rely on these shapes, so each test pins status, content type and
body precisely, runs over every instrument where the contract is per
instrument, and checks on every refusal that nothing was written.
"""

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.measures.actions.alerts import (
    acknowledge_alert,
    escalate_overdue_alerts,
)
from neuroclinic.measures.actions.responses import Recorded, record_response
from neuroclinic.measures.models import QuestionnaireResponse, SafetyAlert
from neuroclinic.measures.tests import api_client as api
from neuroclinic.measures.tests.api_answers import (
    CODES,
    LOWEST_EXPECTED,
    SEX_FOR_SCORING,
    lowest_answers,
    with_answers,
)
from neuroclinic.notifications.models import Notification
from neuroclinic.patients.models import Patient
from neuroclinic.patients.tests.factories import make_patient

pytestmark = pytest.mark.django_db


PHQ9_ITEM9_POSITIVE = with_answers("phq9", phq9_9=1)


@pytest.fixture
def prescribed_patient(patient: Patient, prescriber: User) -> Patient:
    patient.prescriber = prescriber
    patient.save(update_fields=["prescriber"])
    return patient


@pytest.fixture
def elsewhere_patient(other_organization: Organization, outsider: User) -> Patient:
    return make_patient(other_organization, by=outsider)


def _record(
    patient: Patient, by: User, code: str, answers: dict[str, Any], **extra: Any
) -> Recorded:
    return record_response(
        patient,
        instrument_code=code,
        answers=answers,
        source=QuestionnaireResponse.Source.STAFF,
        by=by,
        sex=SEX_FOR_SCORING.get(code),
        **extra,
    )


# POST /api/patients/{id}/responses ---------------------------------------------


def test_a_nurse_records_a_phq9_with_item_9_positive_and_the_prescriber_is_alerted(
    as_persona: Callable[[str], Client], prescribed_patient: Patient, nurse: User
) -> None:
    patient = prescribed_patient
    events_before = AuditEvent.objects.count()

    response = api.post(
        as_persona("nurse"),
        api.responses_url(patient),
        {"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE},
    )

    body = api.ok(response, 201)
    stored = QuestionnaireResponse.objects.get()
    alert = SafetyAlert.objects.get()
    assert body["id"] == str(stored.uuid)
    assert body["instrument"] == "phq9"
    assert body["instrument_version"] == "1.0"
    assert body["answers"] == PHQ9_ITEM9_POSITIVE
    assert (body["total"], body["severity"]) == (1, "minimal")
    assert body["flags"] == ["phq9_item9_positive"]
    assert body["safety_alert"] is True
    assert (body["source"], body["entered_by"], body["version"]) == ("api", "nurse", 1)
    assert body["amends"] is None
    assert body["alerts"] == [
        {
            "id": str(alert.uuid),
            "reason": "phq9_item9_positive",
            "status": "open",
            "raised_at": body["alerts"][0]["raised_at"],
            "assigned_to": "prescriber",
            "acknowledged_at": None,
            "risk_level": "",
            "disposition": "",
            "response_id": str(stored.uuid),
        }
    ]
    assert (stored.patient, stored.entered_by, stored.source) == (
        patient,
        nurse,
        QuestionnaireResponse.Source.API,
    )
    assert (stored.total, stored.raises_safety_alert) == (1, True)
    assert (alert.patient, alert.response, alert.reason) == (
        patient,
        stored,
        SafetyAlert.Reason.PHQ9_ITEM9,
    )
    assert alert.assigned_to == patient.prescriber
    recorded = AuditEvent.objects.get(action=AuditEvent.Action.RESPONSE_RECORDED)
    assert recorded.action == "measures.response_recorded"
    assert (recorded.actor, recorded.patient, recorded.subject_id) == (
        nurse,
        patient,
        str(stored.uuid),
    )
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.SAFETY_ALERT_RAISED, subject_id=str(alert.uuid)
    ).exists()
    assert AuditEvent.objects.count() == events_before + 2
    assert Notification.objects.get().recipient == patient.prescriber


def test_without_a_prescriber_the_alert_goes_to_the_medical_director(
    as_persona: Callable[[str], Client], patient: Patient, director: User
) -> None:
    response = api.post(
        as_persona("nurse"),
        api.responses_url(patient),
        {"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE},
    )

    assert api.ok(response, 201)["alerts"][0]["assigned_to"] == "director"
    assert SafetyAlert.objects.get().assigned_to == director


@pytest.mark.parametrize("code", CODES)
def test_every_instrument_can_be_recorded_with_its_score(
    as_persona: Callable[[str], Client], patient: Patient, code: str
) -> None:
    expected = LOWEST_EXPECTED[code]

    response = api.post(
        as_persona("nurse"),
        api.responses_url(patient),
        api.response_payload(code, lowest_answers(code)),
    )

    body = api.ok(response, 201)
    assert body["instrument"] == code
    assert body["answers"] == lowest_answers(code)
    assert body["total"] == expected.total
    assert body["severity"] == expected.severity
    assert body["flags"] == expected.flags
    assert body["subscales"] == expected.subscales
    assert body["triage"] == expected.triage
    assert body["safety_alert"] is False
    assert body["alerts"] == []
    stored = QuestionnaireResponse.objects.get()
    assert (stored.instrument_code, stored.total) == (code, expected.total)
    assert SafetyAlert.objects.exists() is False
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.RESPONSE_RECORDED).count()
        == 1
    )


@pytest.mark.parametrize(
    ("code", "answers", "reason"),
    [
        ("phq9", with_answers("phq9", phq9_9=2), "phq9_item9_positive"),
        (
            "qids-sr16",
            with_answers("qids-sr16", qids_sr16_12=1),
            "qids_item12_positive",
        ),
        ("madrs", with_answers("madrs", madrs_10=1), "madrs_item10_positive"),
        (
            "cssrs-screener",
            with_answers("cssrs-screener", cssrs_screener_1=1),
            "cssrs_positive",
        ),
    ],
)
def test_each_suicide_item_raises_its_alert(
    as_persona: Callable[[str], Client],
    prescribed_patient: Patient,
    code: str,
    answers: dict[str, Any],
    reason: str,
) -> None:
    response = api.post(
        as_persona("nurse"),
        api.responses_url(prescribed_patient),
        {"instrument": code, "answers": answers},
    )

    body = api.ok(response, 201)
    assert [(a["reason"], a["status"], a["assigned_to"]) for a in body["alerts"]] == [
        (reason, "open", "prescriber")
    ]
    assert SafetyAlert.objects.get().reason == reason


RECORDERS = personas_with(Capability.RECORD_MEASURES)


@pytest.mark.parametrize("persona", sorted(RECORDERS))
def test_clinical_roles_may_record(
    as_persona: Callable[[str], Client], patient: Patient, persona: str
) -> None:
    response = api.post(
        as_persona(persona),
        api.responses_url(patient),
        {"instrument": "gad7", "answers": lowest_answers("gad7")},
    )

    assert api.ok(response, 201)["entered_by"] == persona
    assert QuestionnaireResponse.objects.count() == 1


@pytest.mark.parametrize("persona", [p for p in EVERYONE if p not in RECORDERS])
def test_who_may_not_record_a_response_and_nothing_is_written(
    as_persona: Callable[[str], Client], patient: Patient, persona: str
) -> None:
    status = expected_status(persona, RECORDERS, anonymous=401, outsider=404)
    client = as_persona(persona)
    before = api.written()

    response = api.post(
        client,
        api.responses_url(patient),
        {"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE},
    )

    api.problem(response, status)
    if status == 401:
        assert response["WWW-Authenticate"] == "Bearer"
    assert api.written() == before


def test_a_bearer_token_that_is_not_valid_is_401_and_only_the_refusal_is_logged(
    patient: Patient,
) -> None:
    before = api.written()

    response = Client().post(
        api.responses_url(patient),
        json.dumps({"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE}),
        content_type="application/json",
        headers={"Authorization": "Bearer not-a-token"},
    )

    api.problem(response, 401)
    assert api.written() == before | {"audit_events": before["audit_events"] + 1}
    refusal = AuditEvent.objects.order_by("-seq").first()
    assert refusal is not None
    assert (refusal.action, refusal.outcome) == (
        AuditEvent.Action.TOKEN_REFUSED,
        AuditEvent.Outcome.DENIED,
    )


def test_a_tool_records_a_response_with_a_bearer_token(
    patient: Patient, nurse: User, bearer: Callable[[User], dict[str, str]]
) -> None:
    response = Client().post(
        api.responses_url(patient),
        json.dumps({"instrument": "gad7", "answers": lowest_answers("gad7")}),
        content_type="application/json",
        headers=bearer(nurse),
    )

    body = api.ok(response, 201)
    assert (body["entered_by"], body["source"], body["total"]) == ("nurse", "api", 0)
    assert QuestionnaireResponse.objects.get().entered_by == nurse


def test_another_organizations_patient_is_404_and_nothing_is_written(
    as_persona: Callable[[str], Client], patient: Patient, elsewhere_patient: Patient
) -> None:
    client = as_persona("nurse")
    before = api.written()

    response = api.post(
        client,
        api.responses_url(elsewhere_patient),
        {"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE},
    )

    assert api.problem(response, 404)["title"] == "Not found"
    assert api.written() == before


def test_an_unknown_patient_is_404_and_nothing_is_written(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    client = as_persona("nurse")
    before = api.written()

    response = api.post(
        client,
        f"/api/patients/{uuid.uuid4()}/responses",
        {"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE},
    )

    api.problem(response, 404)
    assert api.written() == before


def test_the_same_submission_key_twice_stores_one_response(
    as_persona: Callable[[str], Client], prescribed_patient: Patient
) -> None:
    client = as_persona("nurse")
    payload = {
        "instrument": "phq9",
        "answers": PHQ9_ITEM9_POSITIVE,
        "submission_key": str(uuid.uuid4()),
    }

    first = api.ok(
        api.post(client, api.responses_url(prescribed_patient), payload), 201
    )
    after_first = api.written()
    second = api.ok(
        api.post(client, api.responses_url(prescribed_patient), payload), 200
    )

    assert second["id"] == first["id"]
    assert second["alerts"] == first["alerts"]
    assert len(second["alerts"]) == 1
    assert api.written() == after_first
    assert QuestionnaireResponse.objects.count() == 1
    assert SafetyAlert.objects.count() == 1
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.RESPONSE_RECORDED).count()
        == 1
    )


def test_a_submission_key_of_another_patients_response_is_422(
    as_persona: Callable[[str], Client], patient: Patient, organization: Organization
) -> None:
    client = as_persona("nurse")
    other = make_patient(organization)
    key = str(uuid.uuid4())
    api.ok(
        api.post(
            client,
            api.responses_url(other),
            {
                "instrument": "gad7",
                "answers": lowest_answers("gad7"),
                "submission_key": key,
            },
        ),
        201,
    )
    before = api.written()

    response = api.post(
        client,
        api.responses_url(patient),
        {
            "instrument": "gad7",
            "answers": lowest_answers("gad7"),
            "submission_key": key,
        },
    )

    assert api.fields(response) == ["submission_key"]
    assert api.written() == before
    assert not QuestionnaireResponse.objects.filter(patient=patient).exists()


def _without(answers: dict[str, Any], link_id: str) -> dict[str, Any]:
    return {k: v for k, v in answers.items() if k != link_id}


INVALID_RESPONSES = [
    pytest.param(
        _without(with_answers("phq9", phq9_9=3), "phq9-1"),
        "answers.phq9-1",
        id="missing",
    ),
    pytest.param(
        with_answers("phq9", phq9_9=3, phq9_4=7), "answers.phq9-4", id="seven"
    ),
    pytest.param(
        with_answers("phq9", phq9_9=3, phq9_4=-1), "answers.phq9-4", id="minus-one"
    ),
    pytest.param(
        with_answers("phq9", phq9_9=3) | {"phq9-4": "2"}, "answers.phq9-4", id="string"
    ),
    pytest.param(
        with_answers("phq9", phq9_9=3) | {"phq9-4": 2.0}, "answers.phq9-4", id="float"
    ),
    pytest.param(
        with_answers("phq9", phq9_9=3) | {"phq9-4": True}, "answers.phq9-4", id="bool"
    ),
    pytest.param(
        with_answers("phq9", phq9_9=3) | {"phq9-11": 0}, "answers.phq9-11", id="unknown"
    ),
    pytest.param(
        with_answers("phq9", phq9_9=3) | {"phq9-9": "3"},
        "answers.phq9-9",
        id="item9-string",
    ),
]


@pytest.mark.parametrize(("answers", "field"), INVALID_RESPONSES)
def test_invalid_answers_are_422_and_nothing_is_written(
    as_persona: Callable[[str], Client],
    prescribed_patient: Patient,
    answers: dict[str, Any],
    field: str,
) -> None:
    client = as_persona("nurse")
    before = api.written()

    response = api.post(
        client,
        api.responses_url(prescribed_patient),
        {"instrument": "phq9", "answers": answers},
    )

    assert api.fields(response) == [field]
    assert api.written() == before


@pytest.mark.parametrize("code", CODES)
def test_every_instrument_refuses_a_response_missing_an_item(
    as_persona: Callable[[str], Client], patient: Patient, code: str
) -> None:
    client = as_persona("nurse")
    answers = lowest_answers(code)
    first = next(iter(answers))
    del answers[first]
    before = api.written()

    response = api.post(
        client, api.responses_url(patient), api.response_payload(code, answers)
    )

    assert api.fields(response) == [f"answers.{first}"]
    assert api.written() == before


def test_recording_audit_c_without_sex_is_422_naming_sex(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    client = as_persona("nurse")
    before = api.written()

    response = api.post(
        client,
        api.responses_url(patient),
        {"instrument": "audit-c", "answers": lowest_answers("audit-c")},
    )

    assert api.fields(response) == ["sex"]
    assert api.written() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param(
            {"answers": lowest_answers("phq9")}, "instrument", id="no-instrument"
        ),
        pytest.param({"instrument": "phq9"}, "answers", id="no-answers"),
        pytest.param(
            {"instrument": "x" * 33, "answers": {}}, "instrument", id="long-code"
        ),
        pytest.param(
            {
                "instrument": "phq9",
                "answers": lowest_answers("phq9"),
                "submission_key": "k",
            },
            "submission_key",
            id="bad-key",
        ),
        pytest.param(
            {
                "instrument": "phq9",
                "answers": lowest_answers("phq9"),
                "completed_at": "yesterday",
            },
            "completed_at",
            id="bad-time",
        ),
    ],
)
def test_a_malformed_response_body_is_422_naming_the_field(
    as_persona: Callable[[str], Client],
    patient: Patient,
    payload: dict[str, Any],
    field: str,
) -> None:
    client = as_persona("nurse")
    before = api.written()

    response = api.post(client, api.responses_url(patient), payload)

    assert api.fields(response) == [field]
    assert api.written() == before


def test_recording_an_unknown_instrument_is_422_naming_it_and_nothing_is_written(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    client = as_persona("nurse")
    before = api.written()

    response = api.post(
        client,
        api.responses_url(patient),
        {"instrument": "phq4", "answers": lowest_answers("phq9")},
    )

    assert [e["field"] for e in api.problem(response, 422)["errors"]] == ["instrument"]
    assert api.written() == before


# GET /api/patients/{id}/responses and /alerts -----------------------------------


def test_responses_are_listed_with_their_scores_and_filtered_by_instrument(
    as_persona: Callable[[str], Client],
    prescribed_patient: Patient,
    nurse: User,
) -> None:
    patient = prescribed_patient
    earlier = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    phq9 = _record(
        patient,
        nurse,
        "phq9",
        {f"phq9-{n}": 2 for n in range(1, 10)},
        completed_at=earlier + timedelta(days=1),
    ).response
    gad7 = _record(
        patient,
        nurse,
        "gad7",
        {f"gad7-{n}": 1 for n in range(1, 8)},
        completed_at=earlier,
    ).response
    client = as_persona("nurse")

    every = api.ok(client.get(api.responses_url(patient)))
    only_phq9 = api.ok(client.get(api.responses_url(patient), {"instrument": "phq9"}))
    none = api.ok(client.get(api.responses_url(patient), {"instrument": "madrs"}))

    assert [(r["id"], r["instrument"], r["total"], r["severity"]) for r in every] == [
        (str(gad7.uuid), "gad7", 7, "mild"),
        (str(phq9.uuid), "phq9", 18, "moderately_severe"),
    ]
    assert [(r["id"], r["total"], r["flags"]) for r in only_phq9] == [
        (str(phq9.uuid), 18, ["phq9_item9_positive"])
    ]
    assert none == []
    listed = only_phq9[0]
    assert listed["safety_alert"] is True
    assert listed["source"] == "staff"
    assert listed["entered_by"] == "nurse"
    assert datetime.fromisoformat(listed["completed_at"]) == earlier + timedelta(days=1)
    assert listed["alerts"] == []
    reads = AuditEvent.objects.filter(action=AuditEvent.Action.TRAJECTORY_VIEWED)
    assert reads.count() == 3
    assert {e.data["what"] for e in reads} == {"responses"}


def test_another_patients_responses_are_not_listed(
    as_persona: Callable[[str], Client],
    patient: Patient,
    organization: Organization,
    nurse: User,
) -> None:
    other = make_patient(organization)
    _record(other, nurse, "gad7", lowest_answers("gad7"))

    assert api.ok(as_persona("nurse").get(api.responses_url(patient))) == []


def _acknowledge(alert: SafetyAlert, by: User) -> None:
    acknowledge_alert(
        alert,
        by=by,
        risk_level="low",
        disposition="safety_plan",
        disposition_note="",
        assessment={
            "ideation": "Passive, fleeting",
            "plan": "None",
            "intent": "None",
            "behaviors": "None",
            "protective_factors": "Family, engaged in care",
        },
    )


@pytest.mark.parametrize("status", ["open", "escalated", "acknowledged"])
def test_alerts_are_listed_with_their_status(
    as_persona: Callable[[str], Client],
    prescribed_patient: Patient,
    nurse: User,
    prescriber: User,
    director: User,
    status: str,
) -> None:
    recorded = _record(prescribed_patient, nurse, "phq9", PHQ9_ITEM9_POSITIVE)
    [alert] = recorded.alerts
    if status == "escalated":
        escalate_overdue_alerts(now=timezone.now() + timedelta(hours=2))
    if status == "acknowledged":
        _acknowledge(alert, prescriber)

    body = api.ok(as_persona("nurse").get(api.alerts_url(prescribed_patient)))

    [listed] = body
    assert listed["id"] == str(alert.uuid)
    assert listed["reason"] == "phq9_item9_positive"
    assert listed["status"] == status
    assert listed["assigned_to"] == "prescriber"
    assert listed["response_id"] == str(recorded.response.uuid)
    if status == "acknowledged":
        assert listed["acknowledged_at"] is not None
        assert (listed["risk_level"], listed["disposition"]) == ("low", "safety_plan")
    else:
        assert listed["acknowledged_at"] is None
        assert (listed["risk_level"], listed["disposition"]) == ("", "")
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.TRAJECTORY_VIEWED, data__what="alerts"
    ).exists()


@pytest.mark.parametrize("listing", ["responses", "alerts"])
@pytest.mark.parametrize("persona", EVERYONE)
def test_who_may_read_a_patients_responses_and_alerts(
    as_persona: Callable[[str], Client],
    prescribed_patient: Patient,
    nurse: User,
    persona: str,
    listing: str,
) -> None:
    recorded = _record(prescribed_patient, nurse, "phq9", PHQ9_ITEM9_POSITIVE)
    client = as_persona(persona)
    before = api.written()
    url = f"/api/patients/{prescribed_patient.uuid}/{listing}"
    status = expected_status(
        persona, personas_with(Capability.VIEW_CHART), anonymous=401, outsider=404
    )

    response = client.get(url)

    if status == 200:
        [listed] = api.ok(response)
        expected_id = (
            recorded.response.uuid
            if listing == "responses"
            else recorded.alerts[0].uuid
        )
        assert listed["id"] == str(expected_id)
        assert api.written() == before | {"audit_events": before["audit_events"] + 1}
    else:
        api.problem(response, status)
        assert api.written() == before


@pytest.mark.parametrize("listing", ["responses", "alerts"])
def test_reading_an_unknown_patient_is_404(
    as_persona: Callable[[str], Client], patient: Patient, listing: str
) -> None:
    client = as_persona("nurse")
    before = api.written()

    response = client.get(f"/api/patients/{uuid.uuid4()}/{listing}")

    api.problem(response, 404)
    assert api.written() == before


# OpenAPI ------------------------------------------------------------------------


def test_the_openapi_document_describes_the_contract(client: Client) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]

    assert set(paths["/api/instruments"]) == {"get"}
    assert set(paths["/api/instruments/{code}"]) == {"get"}
    assert set(paths["/api/instruments/{code}/score"]) == {"post"}
    assert set(paths["/api/patients/{patient_id}/responses"]) == {"get", "post"}
    assert set(paths["/api/patients/{patient_id}/alerts"]) == {"get"}
    # The public self-check's endpoints need no sign-in; the patient's do.
    for public in (
        paths["/api/instruments"]["get"],
        paths["/api/instruments/{code}"]["get"],
        paths["/api/instruments/{code}/score"]["post"],
    ):
        assert not public.get("security")
    for staff in (
        paths["/api/patients/{patient_id}/responses"]["get"],
        paths["/api/patients/{patient_id}/responses"]["post"],
        paths["/api/patients/{patient_id}/alerts"]["get"],
    ):
        assert staff["security"]
    score_body = paths["/api/instruments/{code}/score"]["post"]["requestBody"]
    assert score_body["required"] is True
