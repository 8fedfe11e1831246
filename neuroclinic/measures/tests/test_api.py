"""The measures API contract (issue #3): instruments, scoring, a patient's responses and alerts.

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
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from conftest import EVERYONE, expected_status, login, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.measures import actions
from neuroclinic.measures.api import CRISIS_RESOURCES
from neuroclinic.measures.instruments import INSTRUMENTS
from neuroclinic.measures.models import QuestionnaireResponse, SafetyAlert
from neuroclinic.measures.tests.api_answers import (
    CODES,
    KNOWN_ITEM_LOINC,
    KNOWN_SCORES,
    LOWEST_EXPECTED,
    PUBLISHED_LINK_IDS,
    SEX_FOR_SCORING,
    Expected,
    bad_values,
    lowest_answers,
    score_payload,
    with_answers,
)
from neuroclinic.notifications.models import Notification
from neuroclinic.patients.models import Patient
from neuroclinic.patients.tests.factories import make_patient

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
SCORE_LIMIT_PER_MINUTE = 60


# Helpers -----------------------------------------------------------------------


def _post(client: Client, url: str, payload: object) -> Any:
    return client.post(url, json.dumps(payload), content_type="application/json")


def _score(client: Client, code: str, payload: object) -> Any:
    return _post(client, f"/api/instruments/{code}/score", payload)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def _problem(response: Any, status: int) -> dict[str, Any]:
    """The RFC 9457 problem document a refusal answers with."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["instance"] == response.wsgi_request.path
    assert isinstance(body["title"], str)
    assert body["title"]
    return body


def _fields(response: Any) -> list[str]:
    """The fields a 422 names, in the order it names them."""
    body = _problem(response, 422)
    assert body["title"] == "Invalid input"
    errors: list[dict[str, str]] = body["errors"]
    for error in errors:
        assert set(error) == {"field", "message"}
        assert error["message"]
    return [error["field"] for error in errors]


def _messages(response: Any) -> list[str]:
    return [error["message"] for error in response.json()["errors"]]


def _written() -> dict[str, int]:
    """Row counts of everything a questionnaire can write."""
    return {
        "responses": QuestionnaireResponse.objects.count(),
        "alerts": SafetyAlert.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "notifications": Notification.objects.count(),
    }


def _expected_body(code: str, expected: Expected) -> dict[str, Any]:
    return {
        "instrument": code,
        "version": INSTRUMENTS[code].version,
        "total": expected.total,
        "severity": expected.severity,
        "flags": expected.flags,
        "subscales": expected.subscales,
        "triage": expected.triage,
        "safety_alert": expected.safety_alert,
        "crisis_resources": CRISIS_RESOURCES if expected.safety_alert else None,
    }


def _response_payload(
    code: str, answers: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {"instrument": code, "answers": answers}
    if code in SEX_FOR_SCORING:
        payload["sex"] = SEX_FOR_SCORING[code]
    return payload | extra


def _responses_url(patient: Patient) -> str:
    return f"/api/patients/{patient.uuid}/responses"


def _alerts_url(patient: Patient) -> str:
    return f"/api/patients/{patient.uuid}/alerts"


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
) -> actions.Recorded:
    return actions.record_response(
        patient,
        instrument_code=code,
        answers=answers,
        source=QuestionnaireResponse.Source.STAFF,
        by=by,
        sex=SEX_FOR_SCORING.get(code),
        **extra,
    )


def test_the_tables_cover_every_instrument() -> None:
    assert tuple(INSTRUMENTS) == CODES
    assert set(PUBLISHED_LINK_IDS) == set(CODES)
    assert set(LOWEST_EXPECTED) == set(CODES)
    assert {case[1] for case in KNOWN_SCORES} == set(CODES)


# GET /api/instruments ------------------------------------------------------------


def test_the_list_names_every_instrument_with_its_version_without_sign_in(
    client: Client,
) -> None:
    body = _ok(client.get("/api/instruments"))

    assert [entry["code"] for entry in body] == list(CODES)
    for entry in body:
        instrument = INSTRUMENTS[entry["code"]]
        assert entry["name"] == instrument.name
        assert entry["version"] == instrument.version == "1.0"
        assert entry["rater"] == instrument.rater
        assert entry["recall_period"] == instrument.recall_period
        assert entry["loinc_panel"] == instrument.loinc_panel
        assert entry["loinc_total"] == instrument.loinc_total


def test_the_list_gives_the_published_loinc_totals(client: Client) -> None:
    body = {entry["code"]: entry for entry in _ok(client.get("/api/instruments"))}

    assert (body["phq9"]["loinc_panel"], body["phq9"]["loinc_total"]) == (
        "44249-1",
        "44261-6",
    )
    assert body["gad7"]["loinc_total"] == "70274-6"
    assert body["audit-c"]["loinc_panel"] == "72109-2"
    assert body["madrs"]["rater"] == "clinician"
    assert body["phq9"]["rater"] == "patient"


# GET /api/instruments/{code} -----------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_a_definition_lists_its_items_in_published_order(
    client: Client, code: str
) -> None:
    instrument = INSTRUMENTS[code]

    body = _ok(client.get(f"/api/instruments/{code}"))

    assert (body["code"], body["name"], body["version"]) == (
        code,
        instrument.name,
        instrument.version,
    )
    link_ids = [item["linkId"] for item in body["items"]]
    assert link_ids == PUBLISHED_LINK_IDS[code]
    assert link_ids == [item.link_id for item in instrument.items]
    assert body["total_range"] == (
        list(instrument.total_range) if instrument.total_range else None
    )
    for shown, item in zip(body["items"], instrument.items, strict=True):
        assert {"linkId", "text", "required", "loinc", "options"} <= set(shown)
        assert shown["text"] == item.text
        assert shown["text"]
        assert shown["required"] is item.required
        assert shown["loinc"] == item.loinc
        assert shown["options"] == [
            {"value": option.value, "label": option.label} for option in item.options
        ]
        assert shown["options"]


@pytest.mark.parametrize(("code", "link_id", "loinc"), KNOWN_ITEM_LOINC)
def test_items_carry_their_loinc_codes(
    client: Client, code: str, link_id: str, loinc: str
) -> None:
    body = _ok(client.get(f"/api/instruments/{code}"))

    item = next(i for i in body["items"] if i["linkId"] == link_id)
    assert item["loinc"] == loinc


def test_phq9_item_10_is_optional_and_the_options_are_the_published_answers(
    client: Client,
) -> None:
    items = _ok(client.get("/api/instruments/phq9"))["items"]

    assert [item["required"] for item in items] == [True] * 9 + [False]
    assert items[0]["options"] == [
        {"value": 0, "label": "Not at all"},
        {"value": 1, "label": "Several days"},
        {"value": 2, "label": "More than half the days"},
        {"value": 3, "label": "Nearly every day"},
    ]


def test_the_cssrs_definition_carries_its_branching(client: Client) -> None:
    items = {
        item["linkId"]: item
        for item in _ok(client.get("/api/instruments/cssrs-screener"))["items"]
    }

    for link_id in ("cssrs-screener-3", "cssrs-screener-4", "cssrs-screener-5"):
        assert items[link_id]["enableWhen"] == {
            "question": "cssrs-screener-2",
            "answer": 1,
        }
    assert items["cssrs-screener-6a"]["enableWhen"] == {
        "question": "cssrs-screener-6",
        "answer": 1,
    }
    assert items["cssrs-screener-1"]["enableWhen"] is None


@pytest.mark.parametrize("code", ["phq8", "PHQ9", "phq-9", "nope"])
def test_an_unknown_instrument_is_404(client: Client, code: str) -> None:
    body = _problem(client.get(f"/api/instruments/{code}"), 404)

    assert body["title"] == "Not found"


# POST /api/instruments/{code}/score: valid answers ------------------------------


@pytest.mark.parametrize("code", CODES)
def test_a_full_set_of_lowest_answers_scores_as_published_and_stores_nothing(
    client: Client, code: str
) -> None:
    before = _written()

    response = _score(client, code, score_payload(code, lowest_answers(code)))

    assert _ok(response) == _expected_body(code, LOWEST_EXPECTED[code])
    assert _written() == before


@pytest.mark.parametrize(
    ("code", "answers", "sex", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in KNOWN_SCORES],
)
def test_known_inputs_score_as_published(
    client: Client,
    code: str,
    answers: dict[str, Any],
    sex: str | None,
    expected: Expected,
) -> None:
    before = _written()
    payload: dict[str, Any] = {"answers": answers}
    if sex is not None:
        payload["sex"] = sex

    response = _score(client, code, payload)

    assert _ok(response) == _expected_body(code, expected)
    assert _written() == before


def test_phq9_all_3s_is_severe_with_the_item9_flag_and_crisis_resources(
    client: Client, patient: Patient, prescriber: User, director: User
) -> None:
    before = _written()

    body = _ok(
        _score(client, "phq9", {"answers": {f"phq9-{n}": 3 for n in range(1, 10)}})
    )

    assert (body["total"], body["severity"]) == (27, "severe")
    assert body["flags"] == ["phq9_item9_positive"]
    assert body["safety_alert"] is True
    resources = " ".join(body["crisis_resources"])
    assert "988" in resources
    assert "911" in resources
    assert "press 1" in resources
    # The public self-check raises no alert, notifies nobody and logs nothing.
    assert _written() == before


def test_scoring_needs_no_sign_in_and_gives_the_same_to_staff(
    client: Client, nurse: User
) -> None:
    payload = {"answers": {f"gad7-{n}": 1 for n in range(1, 8)}}
    anonymous = _ok(_score(client, "gad7", payload))

    signed_in = _ok(_score(login(Client(), nurse), "gad7", payload))

    assert anonymous == signed_in
    assert (anonymous["total"], anonymous["severity"]) == (7, "mild")


# POST /api/instruments/{code}/score: refusals -----------------------------------

MISSING_CASES = [
    pytest.param(code, link_id, id=f"{code}-without-{link_id}")
    for code in CODES
    for link_id in lowest_answers(code)
]


@pytest.mark.parametrize(("code", "link_id"), MISSING_CASES)
def test_a_missing_required_answer_is_422_naming_the_item(
    client: Client, code: str, link_id: str
) -> None:
    answers = lowest_answers(code)
    del answers[link_id]
    before = _written()

    response = _score(client, code, score_payload(code, answers))

    assert _fields(response) == [f"answers.{link_id}"]
    [message] = _messages(response)
    assert "required" in message or "at least one of" in message
    assert link_id in message
    assert _written() == before


@pytest.mark.parametrize("code", CODES)
def test_null_is_the_same_as_no_answer(client: Client, code: str) -> None:
    answers = lowest_answers(code)
    first = next(iter(answers))
    answers[first] = None

    response = _score(client, code, score_payload(code, answers))

    assert _fields(response) == [f"answers.{first}"]
    assert _messages(response) == [f"{first}: an answer is required."]


@pytest.mark.parametrize("code", CODES)
def test_no_answers_at_all_names_every_required_item(client: Client, code: str) -> None:
    response = _score(client, code, score_payload(code, {}))

    fields = _fields(response)
    assert sorted(fields) == sorted(
        f"answers.{link_id}" for link_id in lowest_answers(code)
    )


BAD_VALUE_CASES = [
    pytest.param(code, link_id, value, kind, id=f"{code}-{link_id}={value!r}")
    for code in CODES
    for link_id in [next(iter(lowest_answers(code))), list(lowest_answers(code))[-1]]
    for value, kind in bad_values(code, link_id)
]


@pytest.mark.parametrize(("code", "link_id", "value", "kind"), BAD_VALUE_CASES)
def test_a_value_not_among_the_options_or_of_the_wrong_type_is_422_naming_the_item(
    client: Client, code: str, link_id: str, value: object, kind: str
) -> None:
    answers = lowest_answers(code) | {link_id: value}
    before = _written()

    response = _score(client, code, score_payload(code, answers))

    assert _fields(response) == [f"answers.{link_id}"]
    [message] = _messages(response)
    assert message.startswith(f"{link_id}: ")
    if kind == "option":
        assert f"{value} is not an option" in message
    else:
        assert "must be an int option value" in message
    assert _written() == before


UNKNOWN_ITEM_CASES = [
    pytest.param(code, extra, id=f"{code}+{extra}")
    for code in CODES
    for extra in (f"{code}-99", f"{code}-0", "not-an-item", "PHQ9-1")
]


@pytest.mark.parametrize(("code", "extra"), UNKNOWN_ITEM_CASES)
def test_an_unknown_link_id_is_422_naming_it(
    client: Client, code: str, extra: str
) -> None:
    answers = lowest_answers(code) | {extra: 0}
    before = _written()

    response = _score(client, code, score_payload(code, answers))

    assert _fields(response) == [f"answers.{extra}"]
    assert _messages(response) == [f"{extra!r} is not an item of {code}."]
    assert _written() == before


def test_every_problem_in_a_response_is_named(client: Client) -> None:
    answers = lowest_answers("phq9") | {"phq9-2": 7, "phq9-3": "1", "phq9-11": 0}
    del answers["phq9-1"]

    response = _score(client, "phq9", {"answers": answers})

    assert sorted(_fields(response)) == [
        "answers.phq9-1",
        "answers.phq9-11",
        "answers.phq9-2",
        "answers.phq9-3",
    ]


def test_a_cssrs_item_asked_only_after_yes_to_item_2_must_be_left_unanswered(
    client: Client,
) -> None:
    answers = lowest_answers("cssrs-screener") | {"cssrs-screener-3": 0}

    response = _score(client, "cssrs-screener", {"answers": answers})

    assert _fields(response) == ["answers.cssrs-screener-3"]
    assert "must be left unanswered" in _messages(response)[0]


def test_cssrs_yes_to_item_2_requires_items_3_to_5(client: Client) -> None:
    answers = lowest_answers("cssrs-screener") | {"cssrs-screener-2": 1}

    response = _score(client, "cssrs-screener", {"answers": answers})

    assert _fields(response) == [
        "answers.cssrs-screener-3",
        "answers.cssrs-screener-4",
        "answers.cssrs-screener-5",
    ]


def test_cssrs_item_6a_is_asked_only_after_lifetime_behaviour(client: Client) -> None:
    answers = lowest_answers("cssrs-screener") | {"cssrs-screener-6a": 1}

    response = _score(client, "cssrs-screener", {"answers": answers})

    assert _fields(response) == ["answers.cssrs-screener-6a"]


def test_qids_needs_one_of_each_appetite_and_weight_pair(client: Client) -> None:
    answers = lowest_answers("qids-sr16")
    del answers["qids-sr16-6"], answers["qids-sr16-8"]

    response = _score(client, "qids-sr16", {"answers": answers})

    assert _fields(response) == ["answers.qids-sr16-6", "answers.qids-sr16-8"]
    assert _messages(response) == [
        "Answer at least one of qids-sr16-6, qids-sr16-7.",
        "Answer at least one of qids-sr16-8, qids-sr16-9.",
    ]


@pytest.mark.parametrize(
    "sex",
    [
        pytest.param(None, id="missing"),
        pytest.param("other", id="other"),
        pytest.param("", id="empty"),
        pytest.param("F", id="abbreviated"),
        pytest.param(1, id="number"),
    ],
)
def test_audit_c_without_a_usable_sex_is_422_naming_sex(
    client: Client, sex: object
) -> None:
    payload: dict[str, Any] = {"answers": lowest_answers("audit-c")}
    if sex is not None:
        payload["sex"] = sex
    before = _written()

    response = _score(client, "audit-c", payload)

    assert _fields(response) == ["sex"]
    assert _written() == before


def test_sex_is_ignored_where_the_cut_offs_do_not_depend_on_it(client: Client) -> None:
    body = _ok(
        _score(client, "phq2", {"answers": {"phq2-1": 0, "phq2-2": 0}, "sex": "x"})
    )

    assert body["total"] == 0


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="empty-body"),
        pytest.param({"sex": "male"}, id="no-answers"),
        pytest.param({"answer": {"phq9-1": 0}}, id="misspelt"),
        pytest.param({"answers": None}, id="null"),
        pytest.param({"answers": [0, 0, 0]}, id="list"),
        pytest.param({"answers": "phq9-1=0"}, id="string"),
    ],
)
def test_a_body_without_an_answers_object_is_422_naming_answers(
    client: Client, payload: dict[str, Any]
) -> None:
    before = _written()

    response = _score(client, "phq9", payload)

    assert _fields(response) == ["answers"]
    assert _written() == before


def test_scoring_an_unknown_instrument_is_404(client: Client) -> None:
    response = _score(client, "phq8", {"answers": lowest_answers("phq9")})

    body = _problem(response, 404)
    assert body["title"] == "Not found"
    assert "phq8" in body["detail"]


# Rate limit ---------------------------------------------------------------------


def test_the_test_database_has_the_throttle_cache_table() -> None:
    cache_settings = settings.CACHES["default"]

    assert cache_settings["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert cache_settings["LOCATION"] in connection.introspection.table_names()


def test_more_than_60_scores_a_minute_from_one_address_is_429(client: Client) -> None:
    payload = {"answers": {"phq2-1": 0, "phq2-2": 0}}
    statuses = [
        _score(client, "phq2", payload).status_code
        for _ in range(SCORE_LIMIT_PER_MINUTE)
    ]
    assert statuses == [200] * SCORE_LIMIT_PER_MINUTE
    history = cache.get("throttle_anon_127.0.0.1")
    assert isinstance(history, list)
    assert len(history) == SCORE_LIMIT_PER_MINUTE
    before = _written()

    refused = _score(client, "phq2", payload)

    body = _problem(refused, 429)
    assert body["title"] == "Too many requests"
    assert int(refused["Retry-After"]) > 0
    # Refused before the body is looked at: bad answers are still a 429.
    _problem(_score(client, "phq2", {"answers": {}}), 429)
    assert _written() == before
    # Another address has its own allowance.
    other = client.post(
        "/api/instruments/phq2/score",
        json.dumps(payload),
        content_type="application/json",
        REMOTE_ADDR="192.0.2.10",
    )
    assert other.status_code == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_limit(
    client: Client,
) -> None:
    payload = {"answers": {"phq2-1": 0, "phq2-2": 0}}
    for _ in range(SCORE_LIMIT_PER_MINUTE):
        assert _score(client, "phq2", payload).status_code == 200

    forged = client.post(
        "/api/instruments/phq2/score",
        json.dumps(payload),
        content_type="application/json",
        headers={"X-Forwarded-For": "198.51.100.23"},
    )

    _problem(forged, 429)


def test_requests_older_than_a_minute_no_longer_count(client: Client) -> None:
    payload = {"answers": {"phq2-1": 0, "phq2-2": 0}}
    old = timezone.now().timestamp() - 61
    cache.set("throttle_anon_127.0.0.1", [old] * SCORE_LIMIT_PER_MINUTE, 60)

    assert _score(client, "phq2", payload).status_code == 200


def test_a_full_minute_of_history_in_the_cache_refuses_the_next_score(
    client: Client,
) -> None:
    now = timezone.now().timestamp()
    cache.set("throttle_anon_127.0.0.1", [now] * SCORE_LIMIT_PER_MINUTE, 60)

    _problem(_score(client, "phq2", {"answers": {"phq2-1": 0, "phq2-2": 0}}), 429)


# POST /api/patients/{id}/responses ---------------------------------------------


def test_a_nurse_records_a_phq9_with_item_9_positive_and_the_prescriber_is_alerted(
    as_persona: Callable[[str], Client], prescribed_patient: Patient, nurse: User
) -> None:
    patient = prescribed_patient
    events_before = AuditEvent.objects.count()

    response = _post(
        as_persona("nurse"),
        _responses_url(patient),
        {"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE},
    )

    body = _ok(response, 201)
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
    response = _post(
        as_persona("nurse"),
        _responses_url(patient),
        {"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE},
    )

    assert _ok(response, 201)["alerts"][0]["assigned_to"] == "director"
    assert SafetyAlert.objects.get().assigned_to == director


@pytest.mark.parametrize("code", CODES)
def test_every_instrument_can_be_recorded_with_its_score(
    as_persona: Callable[[str], Client], patient: Patient, code: str
) -> None:
    expected = LOWEST_EXPECTED[code]

    response = _post(
        as_persona("nurse"),
        _responses_url(patient),
        _response_payload(code, lowest_answers(code)),
    )

    body = _ok(response, 201)
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
    response = _post(
        as_persona("nurse"),
        _responses_url(prescribed_patient),
        {"instrument": code, "answers": answers},
    )

    body = _ok(response, 201)
    assert [(a["reason"], a["status"], a["assigned_to"]) for a in body["alerts"]] == [
        (reason, "open", "prescriber")
    ]
    assert SafetyAlert.objects.get().reason == reason


RECORDERS = personas_with(Capability.RECORD_MEASURES)


@pytest.mark.parametrize("persona", sorted(RECORDERS))
def test_clinical_roles_may_record(
    as_persona: Callable[[str], Client], patient: Patient, persona: str
) -> None:
    response = _post(
        as_persona(persona),
        _responses_url(patient),
        {"instrument": "gad7", "answers": lowest_answers("gad7")},
    )

    assert _ok(response, 201)["entered_by"] == persona
    assert QuestionnaireResponse.objects.count() == 1


@pytest.mark.parametrize("persona", [p for p in EVERYONE if p not in RECORDERS])
def test_who_may_not_record_a_response_and_nothing_is_written(
    as_persona: Callable[[str], Client], patient: Patient, persona: str
) -> None:
    status = expected_status(persona, RECORDERS, anonymous=401, outsider=404)
    client = as_persona(persona)
    before = _written()

    response = _post(
        client,
        _responses_url(patient),
        {"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE},
    )

    _problem(response, status)
    if status == 401:
        assert response["WWW-Authenticate"] == "Bearer"
    assert _written() == before


def test_a_bearer_token_that_is_not_valid_is_401_and_only_the_refusal_is_logged(
    patient: Patient,
) -> None:
    before = _written()

    response = Client().post(
        _responses_url(patient),
        json.dumps({"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE}),
        content_type="application/json",
        headers={"Authorization": "Bearer not-a-token"},
    )

    _problem(response, 401)
    assert _written() == before | {"audit_events": before["audit_events"] + 1}
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
        _responses_url(patient),
        json.dumps({"instrument": "gad7", "answers": lowest_answers("gad7")}),
        content_type="application/json",
        headers=bearer(nurse),
    )

    body = _ok(response, 201)
    assert (body["entered_by"], body["source"], body["total"]) == ("nurse", "api", 0)
    assert QuestionnaireResponse.objects.get().entered_by == nurse


def test_another_organizations_patient_is_404_and_nothing_is_written(
    as_persona: Callable[[str], Client], patient: Patient, elsewhere_patient: Patient
) -> None:
    client = as_persona("nurse")
    before = _written()

    response = _post(
        client,
        _responses_url(elsewhere_patient),
        {"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE},
    )

    assert _problem(response, 404)["title"] == "Not found"
    assert _written() == before


def test_an_unknown_patient_is_404_and_nothing_is_written(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    client = as_persona("nurse")
    before = _written()

    response = _post(
        client,
        f"/api/patients/{uuid.uuid4()}/responses",
        {"instrument": "phq9", "answers": PHQ9_ITEM9_POSITIVE},
    )

    _problem(response, 404)
    assert _written() == before


def test_the_same_submission_key_twice_stores_one_response(
    as_persona: Callable[[str], Client], prescribed_patient: Patient
) -> None:
    client = as_persona("nurse")
    payload = {
        "instrument": "phq9",
        "answers": PHQ9_ITEM9_POSITIVE,
        "submission_key": str(uuid.uuid4()),
    }

    first = _ok(_post(client, _responses_url(prescribed_patient), payload), 201)
    after_first = _written()
    second = _ok(_post(client, _responses_url(prescribed_patient), payload), 200)

    assert second["id"] == first["id"]
    assert second["alerts"] == first["alerts"]
    assert len(second["alerts"]) == 1
    assert _written() == after_first
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
    _ok(
        _post(
            client,
            _responses_url(other),
            {
                "instrument": "gad7",
                "answers": lowest_answers("gad7"),
                "submission_key": key,
            },
        ),
        201,
    )
    before = _written()

    response = _post(
        client,
        _responses_url(patient),
        {
            "instrument": "gad7",
            "answers": lowest_answers("gad7"),
            "submission_key": key,
        },
    )

    assert _fields(response) == ["submission_key"]
    assert _written() == before
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
    before = _written()

    response = _post(
        client,
        _responses_url(prescribed_patient),
        {"instrument": "phq9", "answers": answers},
    )

    assert _fields(response) == [field]
    assert _written() == before


@pytest.mark.parametrize("code", CODES)
def test_every_instrument_refuses_a_response_missing_an_item(
    as_persona: Callable[[str], Client], patient: Patient, code: str
) -> None:
    client = as_persona("nurse")
    answers = lowest_answers(code)
    first = next(iter(answers))
    del answers[first]
    before = _written()

    response = _post(client, _responses_url(patient), _response_payload(code, answers))

    assert _fields(response) == [f"answers.{first}"]
    assert _written() == before


def test_recording_audit_c_without_sex_is_422_naming_sex(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    client = as_persona("nurse")
    before = _written()

    response = _post(
        client,
        _responses_url(patient),
        {"instrument": "audit-c", "answers": lowest_answers("audit-c")},
    )

    assert _fields(response) == ["sex"]
    assert _written() == before


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
    before = _written()

    response = _post(client, _responses_url(patient), payload)

    assert _fields(response) == [field]
    assert _written() == before


def test_recording_an_unknown_instrument_is_422_naming_it_and_nothing_is_written(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    client = as_persona("nurse")
    before = _written()

    response = _post(
        client,
        _responses_url(patient),
        {"instrument": "phq8", "answers": lowest_answers("phq9")},
    )

    assert [e["field"] for e in _problem(response, 422)["errors"]] == ["instrument"]
    assert _written() == before


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

    every = _ok(client.get(_responses_url(patient)))
    only_phq9 = _ok(client.get(_responses_url(patient), {"instrument": "phq9"}))
    none = _ok(client.get(_responses_url(patient), {"instrument": "madrs"}))

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

    assert _ok(as_persona("nurse").get(_responses_url(patient))) == []


def _acknowledge(alert: SafetyAlert, by: User) -> None:
    actions.acknowledge_alert(
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
        actions.escalate_overdue_alerts(now=timezone.now() + timedelta(hours=2))
    if status == "acknowledged":
        _acknowledge(alert, prescriber)

    body = _ok(as_persona("nurse").get(_alerts_url(prescribed_patient)))

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
    before = _written()
    url = f"/api/patients/{prescribed_patient.uuid}/{listing}"
    status = expected_status(
        persona, personas_with(Capability.VIEW_CHART), anonymous=401, outsider=404
    )

    response = client.get(url)

    if status == 200:
        [listed] = _ok(response)
        expected_id = (
            recorded.response.uuid
            if listing == "responses"
            else recorded.alerts[0].uuid
        )
        assert listed["id"] == str(expected_id)
        assert _written() == before | {"audit_events": before["audit_events"] + 1}
    else:
        _problem(response, status)
        assert _written() == before


@pytest.mark.parametrize("listing", ["responses", "alerts"])
def test_reading_an_unknown_patient_is_404(
    as_persona: Callable[[str], Client], patient: Patient, listing: str
) -> None:
    client = as_persona("nurse")
    before = _written()

    response = client.get(f"/api/patients/{uuid.uuid4()}/{listing}")

    _problem(response, 404)
    assert _written() == before


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
