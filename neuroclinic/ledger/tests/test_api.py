"""The ledger API's contract: shapes, statuses, and problem documents that name the field."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.api import api
from neuroclinic.audit.models import AuditEvent
from neuroclinic.ledger.actions.sessions import draw_for_session, record_administration
from neuroclinic.ledger.models import Discrepancy, LedgerEntry
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.patients.models import Patient

JSON = "application/json"
PROBLEM = "application/problem+json"


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/ledger/{path}", body, content_type=JSON)


def _witness(user: User) -> dict[str, str]:
    return {
        "username": user.username,
        "password": "correct-horse-battery-staple",
        "otp_code": factories.current_code(user),
    }


@pytest.fixture
def nurse_api(as_persona: Callable[[str], Client]) -> Client:
    return as_persona("nurse")


def test_a_whole_session_through_the_api(
    stock: Stock, nurse_api: Client, custodian: User, patient: Patient
) -> None:
    ref = str(uuid.uuid4())

    drawn = _post(
        nurse_api,
        "draws",
        {
            "container": str(stock.vials[0].uuid),
            "patient": str(patient.uuid),
            "session_ref": ref,
            "volume_ml": "0.80",
        },
    )
    given = _post(
        nurse_api, "administrations", {"session_ref": ref, "volume_ml": "0.70"}
    )
    wasted = _post(
        nurse_api,
        "wastes",
        {"session_ref": ref, "volume_ml": "0.10", "witness": _witness(custodian)},
    )
    session = nurse_api.get(f"/api/ledger/sessions/{ref}")

    assert drawn.status_code == 201, drawn.content
    body = drawn.json()
    assert (body["kind"], body["quantity_ml"], body["quantity_mg"]) == (
        "draw",
        "0.80",
        "40.00",
    )
    assert body["container_balance_after_ml"] == "9.20"
    assert body["patient"] == str(patient.uuid)
    assert len(body["hash"]) == 64
    assert given.status_code == 201
    assert wasted.status_code == 201, wasted.content
    assert wasted.json()[0]["witness"] == "custodian"
    assert session.json()["reconciled"] is True
    assert session.json()["outstanding_ml"] == "0.00"


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        ("0", "more than 0"),
        ("-1", "more than 0"),
        ("10.01", "the container holds 10.00 mL"),
        ("0.123", "two decimal places"),
    ],
)
def test_a_bad_draw_is_a_problem_document_naming_the_field(
    stock: Stock, nurse_api: Client, patient: Patient, volume: str, message: str
) -> None:
    entries, events = LedgerEntry.objects.count(), AuditEvent.objects.count()

    response = _post(
        nurse_api,
        "draws",
        {
            "container": str(stock.vials[0].uuid),
            "patient": str(patient.uuid),
            "session_ref": str(uuid.uuid4()),
            "volume_ml": volume,
        },
    )

    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["errors"][0]["field"] == "volume_ml"
    assert message in problem["errors"][0]["message"]
    assert problem["status"] == 422
    assert (LedgerEntry.objects.count(), AuditEvent.objects.count()) == (
        entries,
        events,
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"otp_code": "000000"}, "witness.otp_code", "not right"),
        ({"password": "nope-nope-nope"}, "witness.password", "password is not right"),
        ({"username": "nurse"}, "witness.username", "someone other than you"),
        ({"username": "front_desk"}, "witness.username", "may not witness"),
    ],
)
def test_a_wrong_witness_is_refused_with_the_field_and_nothing_written(
    stock: Stock,
    nurse_api: Client,
    custodian: User,
    front_desk: User,
    patient: Patient,
    change: dict[str, str],
    field: str,
    message: str,
) -> None:
    ref = str(uuid.uuid4())
    _post(
        nurse_api,
        "draws",
        {
            "container": str(stock.vials[0].uuid),
            "patient": str(patient.uuid),
            "session_ref": ref,
            "volume_ml": "0.80",
        },
    )
    entries, events = LedgerEntry.objects.count(), AuditEvent.objects.count()

    response = _post(
        nurse_api,
        "wastes",
        {
            "session_ref": ref,
            "volume_ml": "0.80",
            "witness": _witness(custodian) | change,
        },
    )

    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == field
    assert message in response.json()["errors"][0]["message"]
    assert (LedgerEntry.objects.count(), AuditEvent.objects.count()) == (
        entries,
        events,
    )


def test_receiving_through_the_api(
    stock: Stock, as_persona: Callable[[str], Client]
) -> None:
    client = as_persona("custodian")
    expiry = (factories.clinic_today() + timedelta(days=400)).isoformat()

    response = _post(
        client,
        "receipts",
        {
            "registrant": str(stock.registrant.uuid),
            "supplier": str(stock.supplier.uuid),
            "storage_location": str(stock.safe.uuid),
            "invoice_number": "API-77",
            "invoice_date": factories.clinic_today().isoformat(),
            "items": [
                {
                    "product": str(stock.product.uuid),
                    "lot_number": "LOT-API",
                    "expiry_date": expiry,
                    "container_count": 3,
                    "vial_identifiers": ["K-1", "K-2", "K-3"],
                }
            ],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert [c["vial_identifier"] for c in body["containers"]] == ["K-1", "K-2", "K-3"]
    assert body["supplier_dea_number"] == factories.SUPPLIER_DEA
    assert body["has_scan"] is False
    again = _post(
        client,
        "receipts",
        {
            "registrant": str(stock.registrant.uuid),
            "supplier": str(stock.supplier.uuid),
            "storage_location": str(stock.safe.uuid),
            "invoice_number": "API-77",
            "invoice_date": factories.clinic_today().isoformat(),
            "items": [],
        },
    )
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "invoice_number"
    scan = client.post(
        f"/api/ledger/receipts/{body['uuid']}/scan",
        {"scan": _upload(b"%PDF-1.4 invoice")},
    )
    assert scan.status_code == 200, scan.content
    assert scan.json()["has_scan"] is True
    fake = client.post(
        f"/api/ledger/receipts/{body['uuid']}/scan", {"scan": _upload(b"GIF89a")}
    )
    assert fake.status_code == 422


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("scan.pdf", data)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def test_a_count_with_a_variance_and_its_discrepancy_through_the_api(
    stock: Stock, as_persona: Callable[[str], Client], nurse: User
) -> None:
    client = as_persona("custodian")
    counted = _post(
        client,
        "counts",
        {
            "storage_location": str(stock.safe.uuid),
            "lines": [
                {"container": str(stock.vials[0].uuid), "counted_ml": "10.00"},
                {"container": str(stock.vials[1].uuid), "counted_ml": "9.50"},
            ],
            "second_counter": _witness(nurse),
        },
    )
    assert counted.status_code == 201, counted.content
    discrepancy = counted.json()["discrepancy"]
    assert counted.json()["has_variance"] is True

    early = _post(client, f"discrepancies/{discrepancy}/resolve", {"notes": "x"})
    investigated = _post(
        client,
        f"discrepancies/{discrepancy}/investigate",
        {"notes": "Recounted twice."},
    )
    resolved = _post(
        client, f"discrepancies/{discrepancy}/resolve", {"notes": "Minor: spillage."}
    )

    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "status"
    assert investigated.json()["status"] == "investigating"
    assert resolved.json()["status"] == "resolved_minor"
    assert Discrepancy.objects.get().status == "resolved_minor"
    balance = client.get(f"/api/ledger/containers/{stock.vials[1].uuid}").json()
    assert balance["balance_ml"] == "9.50"


def test_escalation_through_the_api_returns_the_tasks_and_draft(
    stock: Stock, as_persona: Callable[[str], Client], nurse: User
) -> None:
    client = as_persona("custodian")
    counted = _post(
        client,
        "counts",
        {
            "storage_location": str(stock.safe.uuid),
            "lines": [
                {"container": str(stock.vials[0].uuid), "counted_ml": "0"},
                {"container": str(stock.vials[1].uuid), "counted_ml": "10"},
            ],
            "second_counter": _witness(nurse),
        },
    )
    discrepancy = counted.json()["discrepancy"]

    bad = _post(
        client,
        f"discrepancies/{discrepancy}/escalate",
        {"loss_kind": "x", "notes": "y"},
    )
    escalated = _post(
        client,
        f"discrepancies/{discrepancy}/escalate",
        {"loss_kind": "theft", "notes": "Vial gone."},
    )

    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "loss_kind"
    body = escalated.json()
    assert body["status"] == "escalated"
    assert {t["kind"] for t in body["tasks"]} == {"dea_notice", "form_106"}
    assert body["form_106"]["items"][0]["quantity_lost_mg"] == "500.00"


def test_entries_are_paginated_newest_first(stock: Stock, nurse_api: Client) -> None:
    response = nurse_api.get("/api/ledger/entries")

    body = response.json()
    assert body["count"] == 2
    assert [e["seq"] for e in body["items"]] == [2, 1]


def test_reports_come_as_rows_and_are_audited(
    stock: Stock, as_persona: Callable[[str], Client], nurse: User, patient: Patient
) -> None:
    ref = uuid.uuid4()
    draw_for_session(
        stock.vials[0],
        session_ref=ref,
        patient=patient,
        volume_ml=Decimal("1"),
        by=nurse,
    )
    record_administration(ref, volume_ml=Decimal("1"), by=nurse)
    client = as_persona("auditor")

    response = client.get(
        f"/api/ledger/reports/administrations?registrant={stock.registrant.uuid}"
    )

    assert response.status_code == 200
    row = response.json()["rows"][0]
    assert row["Patient"] == "Casey Testova"
    assert row["mg"] == "50.00"
    assert row["Administered by"] == nurse.display_name
    event = AuditEvent.objects.filter(
        action=AuditEvent.Action.LEDGER_REPORT_EXPORTED
    ).get()
    assert event.data["report"] == "administrations"
    assert (
        client.get(
            f"/api/ledger/reports/nonsense?registrant={stock.registrant.uuid}"
        ).status_code
        == 422
    )


def test_checks_run_and_report_through_the_api(
    stock: Stock, as_persona: Callable[[str], Client]
) -> None:
    client = as_persona("auditor")

    ran = _post(client, "checks", {"registrant": str(stock.registrant.uuid)})
    latest = client.get("/api/ledger/checks/latest").json()

    assert ran.status_code == 201
    assert ran.json()["ok"] is True
    assert latest[0]["head_seq"] == 2


def test_the_openapi_document_lists_every_ledger_operation() -> None:
    paths = api.get_openapi_schema()["paths"]

    ledger = {p for p in paths if p.startswith("/api/ledger/")}
    for expected in [
        "/api/ledger/receipts",
        "/api/ledger/draws",
        "/api/ledger/administrations",
        "/api/ledger/wastes",
        "/api/ledger/returns",
        "/api/ledger/container-wastes",
        "/api/ledger/transfers",
        "/api/ledger/destructions",
        "/api/ledger/reverse-distributions",
        "/api/ledger/losses",
        "/api/ledger/reversals",
        "/api/ledger/counts",
        "/api/ledger/inventories",
        "/api/ledger/reports/{kind}",
        "/api/ledger/checks",
    ]:
        assert expected in ledger
