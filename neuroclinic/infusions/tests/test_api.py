"""The API contract: the dose calculator and the monitor feed."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import login
from neuroclinic.accounts import actions as account_actions
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Device
from neuroclinic.infusions.models import InfusionSession, RejectedReading, VitalReading
from neuroclinic.infusions.tests import factories

DOSE_URL = "/api/infusions/dose-calculation"
OUTPUT_FIELDS = {
    "dosing_weight_kg",
    "dose_mg",
    "drug_volume_ml",
    "total_volume_ml",
    "final_concentration_mg_per_ml",
    "rate_ml_per_hour",
    "dose_rate_mg_per_min",
    "capped",
    "warnings",
}
WORKED_EXAMPLE = {
    "weight_kg": 80,
    "dose_mg_per_kg": 0.5,
    "concentration_mg_per_ml": 50,
    "diluent_volume_ml": 100,
    "duration_minutes": 40,
}


def post(
    client: Client, path: str, body: Any, headers: dict[str, str] | None = None
) -> Any:
    return client.post(
        path, json.dumps(body), content_type="application/json", headers=headers
    )


def test_the_worked_example_of_the_dosing_page(client: Client, nurse: User) -> None:
    login(client, nurse)
    response = post(client, DOSE_URL, WORKED_EXAMPLE)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == OUTPUT_FIELDS
    assert body == {
        "dosing_weight_kg": 80,
        "dose_mg": 40,
        "drug_volume_ml": 0.8,
        "total_volume_ml": 100.8,
        "final_concentration_mg_per_ml": 0.397,
        "rate_ml_per_hour": 151.2,
        "dose_rate_mg_per_min": 1,
        "capped": False,
        "warnings": [],
    }


def test_ideal_body_weight_and_the_absolute_cap(
    client: Client, prescriber: User
) -> None:
    login(client, prescriber)
    body = post(
        client,
        DOSE_URL,
        WORKED_EXAMPLE
        | {
            "weight_kg": "120",
            "dose_mg_per_kg": "0.75",
            "dosing_weight_rule": "adjusted",
            "height_cm": 178,
            "sex": "male",
            "max_dose_mg": 60,
        },
    ).json()
    # IBW 73.2 kg (Devine, 70.08 in); adjusted 73.2 + 0.4 x 46.8 = 91.9 kg; 0.75 x 91.9 > 60 mg.
    assert body["dosing_weight_kg"] == 91.9
    assert (body["dose_mg"], body["capped"]) == (60, True)
    assert any("capped at 60" in w for w in body["warnings"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weight_kg": 7000}, "weight_kg"),
        ({"weight_kg": 0}, "weight_kg"),
        ({"concentration_mg_per_ml": 25}, "concentration_mg_per_ml"),
        ({"dose_mg_per_kg": 5}, "dose_mg_per_kg"),
        ({"duration_minutes": 2}, "duration_minutes"),
        ({"diluent_volume_ml": -5}, "diluent_volume_ml"),
        ({"concentration_mg_per_ml": 100, "diluent_volume_ml": 0}, "diluent_volume_ml"),
        ({"dosing_weight_rule": "ideal"}, "height_cm"),
        ({"dosing_weight_rule": "ideal", "height_cm": 170}, "sex"),
        ({"dosing_weight_rule": "lean"}, "dosing_weight_rule"),
        (
            {"height_cm": 70, "sex": "female", "dosing_weight_rule": "ideal"},
            "height_cm",
        ),
        ({"sex": "other"}, "sex"),
        ({"weight_kg": "eighty"}, "weight_kg"),
        ({"max_dose_mg": 0}, "max_dose_mg"),
    ],
)
def test_invalid_input_is_422_naming_the_field(
    client: Client, nurse: User, changes: dict[str, object], field: str
) -> None:
    login(client, nurse)
    response = post(client, DOSE_URL, WORKED_EXAMPLE | changes)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]


def test_a_missing_field_is_named(client: Client, nurse: User) -> None:
    login(client, nurse)
    body = {k: v for k, v in WORKED_EXAMPLE.items() if k != "duration_minutes"}
    response = post(client, DOSE_URL, body)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["duration_minutes"]


def test_the_calculator_is_for_staff_only(client: Client) -> None:
    response = post(client, DOSE_URL, WORKED_EXAMPLE)
    assert response.status_code == 401


def test_a_bearer_token_works(client: Client, front_desk: User) -> None:
    token = account_actions.create_api_token(front_desk, name="test", by=front_desk)
    response = post(
        client,
        DOSE_URL,
        WORKED_EXAMPLE,
        headers={"Authorization": f"Bearer {token[1]}"},
    )
    assert response.status_code == 200


# --- the monitor feed ---------------------------------------------------------------------


def vitals_url(session: InfusionSession) -> str:
    return f"/api/infusions/sessions/{session.uuid}/vitals"


@pytest.fixture
def feed(client: Client, nurse: User) -> Client:
    return login(client, nurse)


def test_one_reading_is_stored_with_the_devices_time(
    feed: Client, running: InfusionSession, monitor: Device
) -> None:
    at = timezone.now()  # after the start: a reading during the infusion
    response = post(feed, vitals_url(running), factories.reading(at, monitor))
    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    stored = VitalReading.objects.get(source="monitor")
    assert stored.taken_at == at
    assert stored.device == monitor
    assert stored.phase == VitalReading.Phase.INFUSION


def test_a_batch_out_of_order_with_a_duplicate_is_stored_once_in_time_order(
    feed: Client, running: InfusionSession, monitor: Device
) -> None:
    now = timezone.now()
    times = [now - timedelta(seconds=s) for s in (10, 30, 20)]
    batch = {
        "device": monitor.serial_number,
        "readings": [
            {
                k: v
                for k, v in factories.reading(t, monitor, heart_rate_bpm=70 + i).items()
                if k != "device"
            }
            for i, t in enumerate(times)
        ],
    }
    first = post(feed, vitals_url(running), batch).json()
    again = post(feed, vitals_url(running), batch).json()
    assert (first["accepted"], first["duplicates"]) == (3, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    stored = list(VitalReading.objects.filter(source="monitor").order_by("id"))
    assert [r.heart_rate_bpm for r in stored] == [71, 72, 70]  # inserted oldest first
    assert [r.taken_at for r in stored] == sorted(times)


def test_malformed_readings_are_kept_and_reported_while_good_ones_are_stored(
    feed: Client, running: InfusionSession, monitor: Device
) -> None:
    now = timezone.now()
    good = factories.reading(now - timedelta(seconds=3), monitor)
    readings = [
        good,
        factories.reading(now, monitor, spo2_percent=130),
        {
            "device": str(monitor.uuid),
            "taken_at": "yesterday-ish",
            "systolic_mmhg": "high",
        },
        "not an object",
        factories.reading(now + timedelta(hours=1), monitor),
        factories.reading(now, monitor) | {"device": "unknown-monitor"},
    ]
    response = post(feed, vitals_url(running), readings)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    rejected = {r["index"]: r["errors"] for r in body["rejected"]}
    assert set(rejected) == {1, 2, 3, 4, 5}
    assert "spo2_percent" in rejected[1]
    assert {"taken_at", "systolic_mmhg", "diastolic_mmhg"} <= set(rejected[2])
    assert "future" in rejected[4]["taken_at"][0]
    assert "device" in rejected[5]
    assert RejectedReading.objects.count() == 5  # nothing lost
    assert RejectedReading.objects.filter(payload="not an object").exists()


def test_a_single_impossible_reading_is_422_naming_the_field(
    feed: Client, running: InfusionSession, monitor: Device
) -> None:
    response = post(
        feed,
        vitals_url(running),
        factories.reading(timezone.now(), monitor, heart_rate_bpm=0),
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Invalid input"
    assert [e["field"] for e in problem["errors"]] == ["heart_rate_bpm"]
    assert problem["detail"].startswith("heart_rate_bpm: ")
    assert RejectedReading.objects.count() == 1
    refused = AuditEvent.objects.get(action=AuditEvent.Action.INFUSION_VITALS_REJECTED)
    assert (refused.patient_id, refused.data["fields"]) == (
        running.patient_id,
        ["heart_rate_bpm"],
    )


def test_a_body_that_is_not_json_is_kept_and_refused(
    feed: Client, running: InfusionSession
) -> None:
    response = feed.post(
        vitals_url(running), "MSH|^~\\&|not json", content_type="application/json"
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body"]
    kept = RejectedReading.objects.get()
    assert kept.payload.startswith("MSH|")
    refused = AuditEvent.objects.get(action=AuditEvent.Action.INFUSION_VITALS_REJECTED)
    assert (refused.patient_id, refused.data["fields"], refused.data["count"]) == (
        running.patient_id,
        ["body"],
        1,
    )


def test_an_alarm_comes_back_with_the_readings(
    feed: Client, running: InfusionSession, monitor: Device
) -> None:
    now = timezone.now()
    unguarded_update(running.vitals, taken_at=now - timedelta(minutes=20))
    body = post(
        feed,
        vitals_url(running),
        [
            factories.reading(
                now - timedelta(minutes=5, seconds=10), monitor, heart_rate_bpm=128
            ),
            factories.reading(now - timedelta(seconds=2), monitor, heart_rate_bpm=131),
        ],
    ).json()
    assert [a["code"] for a in body["alarms"]] == ["heart_rate_high"]
    assert body["alarms"][0]["acknowledged"] is False


def test_a_closed_session_takes_no_readings(
    feed: Client, running: InfusionSession, monitor: Device
) -> None:
    unguarded_update(
        InfusionSession.objects.filter(pk=running.pk),
        status=InfusionSession.Status.CLOSED,
    )
    response = post(
        feed, vitals_url(running), factories.reading(timezone.now(), monitor)
    )
    assert response.status_code == 422
    assert not VitalReading.objects.filter(source="monitor").exists()


@pytest.mark.parametrize(
    ("vital", "value", "code"),
    [
        ("respiratory_rate_per_min", 7, "respiratory_rate_critical"),
        ("heart_rate_bpm", 42, "heart_rate_critical"),
        ("systolic_mmhg", 85, "bp_low_critical"),
    ],
)
def test_item8_one_critical_reading_from_the_monitor_alarms_at_once(
    feed: Client,
    running: InfusionSession,
    monitor: Device,
    vital: str,
    value: int,
    code: str,
) -> None:
    changes: dict[str, int] = {vital: value}
    if vital == "systolic_mmhg":
        changes["diastolic_mmhg"] = 50
    body = post(
        feed,
        vitals_url(running),
        [factories.reading(timezone.now(), monitor, **changes)],
    ).json()
    alarms = {a["code"]: a for a in body["alarms"]}
    assert code in alarms
    assert alarms[code]["severity"] == "critical"
