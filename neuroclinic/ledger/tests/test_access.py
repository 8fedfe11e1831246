"""Who may open and do what in the ledger: persona x endpoint, web and API.

Auditors read everything and change nothing; other clinics' records are 404.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from neuroclinic.accounts.roles import ROLE_CAPABILITIES, Capability, Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.ledger.actions.receiving import attach_invoice_scan
from neuroclinic.ledger.models import LedgerEntry, Receipt
from neuroclinic.ledger.tests.conftest import Stock

PERSONAS = [
    "anonymous",
    "admin",
    "director",
    "prescriber",
    "nurse",
    "front_desk",
    "tms",
    "custodian",
    "billing",
    "auditor",
]
VIEWERS = {"director", "prescriber", "nurse", "custodian", "auditor"}
DRAWERS = {"director", "prescriber", "nurse"}
RECEIVERS = {"custodian"}
COUNTERS = {"director", "nurse", "custodian"}
REPORTERS = {"director", "custodian", "auditor"}
ADJUSTERS = {"director", "custodian"}
SETUP = {"custodian"}


def _expected(persona: str, allowed: set[str], *, anonymous: int = 302) -> int:
    if persona == "anonymous":
        return anonymous
    return 200 if persona in allowed else 403


PAGES: list[tuple[str, set[str]]] = [
    ("/ledger/", VIEWERS),
    ("/ledger/entries/", VIEWERS),
    ("/ledger/inventories/", VIEWERS),
    ("/ledger/vials/{vial}/", VIEWERS),
    ("/ledger/draw/", DRAWERS),
    ("/ledger/receive/", RECEIVERS),
    ("/ledger/safes/{safe}/count", COUNTERS),
    ("/ledger/inventories/new", COUNTERS),
    ("/ledger/reports/", REPORTERS),
    ("/ledger/setup/", SETUP),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("path", "allowed"), PAGES)
def test_who_can_open_each_ledger_page(
    stock: Stock,
    as_persona: Callable[[str], Client],
    persona: str,
    path: str,
    allowed: set[str],
) -> None:
    url = path.format(vial=stock.vials[0].uuid, safe=stock.safe.uuid)

    response = as_persona(persona).get(url)

    assert response.status_code == _expected(persona, allowed)


API_READS: list[tuple[str, set[str]]] = [
    ("/api/ledger/containers", VIEWERS),
    ("/api/ledger/entries", VIEWERS),
    ("/api/ledger/registrants", VIEWERS),
    ("/api/ledger/discrepancies", VIEWERS),
    ("/api/ledger/checks/latest", VIEWERS),
    ("/api/ledger/reports/administrations?registrant={registrant}", REPORTERS),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("path", "allowed"), API_READS)
def test_who_can_read_the_ledger_api(
    stock: Stock,
    as_persona: Callable[[str], Client],
    persona: str,
    path: str,
    allowed: set[str],
) -> None:
    response = as_persona(persona).get(path.format(registrant=stock.registrant.uuid))

    assert response.status_code == _expected(persona, allowed, anonymous=401)


WRITES: list[tuple[str, Capability]] = [
    ("/api/ledger/receipts", Capability.LEDGER_RECEIVE),
    ("/api/ledger/draws", Capability.LEDGER_DRAW),
    ("/api/ledger/administrations", Capability.LEDGER_DRAW),
    ("/api/ledger/wastes", Capability.LEDGER_DRAW),
    ("/api/ledger/container-wastes", Capability.LEDGER_DRAW),
    ("/api/ledger/returns", Capability.LEDGER_DRAW),
    ("/api/ledger/transfers", Capability.LEDGER_RECEIVE),
    ("/api/ledger/destructions", Capability.LEDGER_DESTROY),
    ("/api/ledger/reverse-distributions", Capability.LEDGER_DESTROY),
    ("/api/ledger/losses", Capability.LEDGER_DESTROY),
    ("/api/ledger/reversals", Capability.LEDGER_ADJUST),
    ("/api/ledger/counts", Capability.LEDGER_COUNT),
    ("/api/ledger/inventories", Capability.LEDGER_COUNT),
]


@pytest.mark.parametrize(("path", "capability"), WRITES)
def test_auditors_change_nothing_through_the_api(
    stock: Stock, as_persona: Callable[[str], Client], path: str, capability: Capability
) -> None:
    entries, events = LedgerEntry.objects.count(), AuditEvent.objects.count()

    response = as_persona("auditor").post(path, {}, content_type="application/json")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert (LedgerEntry.objects.count(), AuditEvent.objects.count()) == (
        entries,
        events,
    )


def test_the_auditor_role_has_no_ledger_write_capability() -> None:
    writes = {
        Capability.LEDGER_RECEIVE,
        Capability.LEDGER_DRAW,
        Capability.LEDGER_WITNESS,
        Capability.LEDGER_COUNT,
        Capability.LEDGER_ADJUST,
        Capability.LEDGER_DESTROY,
        Capability.LEDGER_SETUP,
    }
    auditor = ROLE_CAPABILITIES[Role.AUDITOR]

    assert auditor.isdisjoint(writes)
    assert {Capability.LEDGER_VIEW, Capability.LEDGER_REPORT} <= auditor


@pytest.mark.parametrize("persona", ["front_desk", "billing", "tms", "admin"])
def test_roles_without_the_capability_cannot_draw_through_the_api(
    stock: Stock, as_persona: Callable[[str], Client], persona: str
) -> None:
    response = as_persona(persona).post(
        "/api/ledger/draws", {}, content_type="application/json"
    )

    assert response.status_code == 403


def test_another_clinics_vial_is_not_found(
    stock: Stock, as_persona: Callable[[str], Client]
) -> None:
    client = as_persona("outsider")

    assert client.get(f"/ledger/vials/{stock.vials[0].uuid}/").status_code == 404
    assert (
        client.get(f"/api/ledger/containers/{stock.vials[0].uuid}").status_code == 404
    )
    assert client.get("/api/ledger/containers").json() == []


def test_the_custodian_is_sent_to_the_ledger_in_the_menu(
    stock: Stock, as_persona: Callable[[str], Client]
) -> None:
    page = as_persona("custodian").get("/ledger/").content.decode()

    assert 'href="/ledger/"' in page
    assert "Patients" not in page.split("<main")[0]


def test_a_nurse_cannot_post_a_vial_step_she_lacks(
    stock: Stock, as_persona: Callable[[str], Client]
) -> None:
    response = as_persona("nurse").post(
        f"/ledger/vials/{stock.vials[0].uuid}/destroy", {"method": "x"}
    )

    assert response.status_code == 403
    assert stock.vials[0].balance_ml == Decimal("10.00")


def test_scans_are_served_only_inside_the_organization(
    stock: Stock, as_persona: Callable[[str], Client], settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    receipt = Receipt.objects.get()
    custodian = receipt.received_by
    attach_invoice_scan(
        receipt,
        scan=SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n...."),
        by=custodian,
    )
    url = f"/ledger/receipts/{receipt.uuid}/scan"

    ok = as_persona("custodian").get(url)
    assert ok.status_code == 200
    assert ok["Content-Type"] == "image/png"
    assert "attachment" in ok["Content-Disposition"]
    assert as_persona("front_desk").get(url).status_code == 403


def test_outsiders_cannot_fetch_a_scan(
    stock: Stock, as_persona: Callable[[str], Client]
) -> None:
    receipt = Receipt.objects.get()

    assert (
        as_persona("outsider").get(f"/ledger/receipts/{receipt.uuid}/scan").status_code
        == 404
    )
