"""Report, dashboard and export reads go to the replica when DATABASE_REPLICA_URL names one.

The "replica" connection here is a test mirror of the test database, made as
Django's test runner makes an alias whose TEST MIRROR is "default" (settings
give the replica alias that setting): a streaming replica holds the same rows.
Each test asserts which alias served which statements.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections, transaction
from django.db.utils import load_backend
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.lib.replica import REPLICA, reading_from_replica, replica_configured
from neuroclinic.operations.tests.live import LiveDatabase
from neuroclinic.patients.models import Patient

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def restorable(tmp_path: Path) -> Iterator[None]:
    live = LiveDatabase.start(tmp_path)  # SQLite: puts the database back after the test
    yield
    live.stop()


@pytest.fixture
def replica(restorable: None, settings: Settings) -> Iterator[str]:
    """A second connection to the test database under the "replica" alias, as settings make one."""
    default = connections["default"]
    settings.DATABASE_REPLICA_URL = "(the test database)"
    mirror = load_backend(default.settings_dict["ENGINE"]).DatabaseWrapper(
        dict(default.settings_dict) | {"TEST": {"MIRROR": "default"}}, alias=REPLICA
    )
    mirror.creation.set_as_test_mirror(default.settings_dict)
    connections[REPLICA] = mirror
    try:
        yield REPLICA
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]


def _sql(captured: CaptureQueriesContext) -> str:
    return "\n".join(q["sql"] for q in captured.captured_queries)


def test_reads_in_a_replica_context_go_to_the_replica_and_writes_stay_on_the_primary(
    replica: str, patient: Patient, nurse: User
) -> None:
    with (
        CaptureQueriesContext(connections[replica]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
        reading_from_replica(),
    ):
        count = Patient.objects.count()
        patient.preferred_name = "Cee"
        patient.save(update_fields=["preferred_name"])

    assert count == 1
    assert "patients_patient" in _sql(on_replica)
    assert "UPDATE" not in _sql(on_replica)
    assert "UPDATE" in _sql(on_primary)


def test_reads_inside_a_transaction_stay_on_the_primary(
    replica: str, patient: Patient
) -> None:
    with (
        CaptureQueriesContext(connections[replica]) as on_replica,
        reading_from_replica(),
        transaction.atomic(),
    ):
        Patient.objects.count()

    assert on_replica.captured_queries == []


def test_without_a_replica_everything_reads_the_primary(
    restorable: None, patient: Patient
) -> None:
    assert not replica_configured()
    with (
        CaptureQueriesContext(connections["default"]) as on_primary,
        reading_from_replica(),
    ):
        Patient.objects.count()

    assert "patients_patient" in _sql(on_primary)


def test_the_audit_log_page_reads_from_the_replica_and_records_on_the_primary(
    replica: str, client: Client, admin: User, patient: Patient
) -> None:
    login(client, admin)

    with (
        CaptureQueriesContext(connections[replica]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        page = client.get("/audit/")

    assert page.status_code == 200
    assert "audit_auditevent" in _sql(on_replica)
    assert "audit_auditevent" not in _sql(on_primary)  # sessions and sign-in stay put
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PATIENT_REGISTERED
    ).exists()


def _writes(captured: CaptureQueriesContext) -> list[str]:
    """Statements that write, including an audit event's INSERT under a WITH (PostgreSQL)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        or (
            q["sql"].lstrip().upper().startswith("WITH")
            and any(
                w in q["sql"].upper() for w in ("INSERT INTO", "UPDATE ", "DELETE ")
            )
        )
    ]


def test_the_audit_log_export_streams_from_the_replica_and_its_event_goes_to_the_primary(
    replica: str, client: Client, admin: User, patient: Patient
) -> None:
    login(client, admin)

    with (
        CaptureQueriesContext(connections[replica]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = client.get("/audit/export.csv")
        body = response.getvalue().decode()

    assert response.status_code == 200
    assert patient.mrn in body  # its registration event, read from the replica
    assert "audit_auditevent" in _sql(on_replica)  # the rows, read while streaming
    assert _writes(on_replica) == []
    assert any(
        "audit_auditevent" in sql and "INSERT INTO" in sql.upper()
        for sql in _writes(on_primary)
    )
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.AUDIT_LOG_EXPORTED, actor=admin
    ).exists()


def test_the_outcomes_dashboard_reads_the_replica_and_audits_on_the_primary(
    replica: str, client: Client, director: User, patient: Patient
) -> None:
    login(client, director)
    before = AuditEvent.objects.filter(action=AuditEvent.Action.OUTCOMES_VIEWED).count()

    with (
        CaptureQueriesContext(connections[replica]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        page = client.get("/outcomes/dashboard/")

    assert page.status_code == 200
    assert "outcomes_" in _sql(on_replica) or "measures_" in _sql(on_replica)
    assert _writes(on_replica) == []
    assert "INSERT" in "\n".join(_writes(on_primary))
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.OUTCOMES_VIEWED).count()
        == before + 1
    )


def test_a_bulk_export_searches_the_replica_and_writes_its_files_on_the_primary(
    replica: str, director: User, patient: Patient
) -> None:
    from neuroclinic.interop import actions
    from neuroclinic.interop.export import run_export
    from neuroclinic.interop.models import BulkExport, BulkExportFile

    export = actions.start_export(
        level=BulkExport.Level.SYSTEM,
        resource_types=["Patient"],
        since=None,
        request_url="https://clinic.example/fhir/$export",
        by=director,
    )

    with (
        CaptureQueriesContext(connections[replica]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        counts = run_export(export.uuid)

    assert counts == {"Patient": 1}
    assert "patients_patient" in _sql(on_replica)
    assert _writes(on_replica) == []
    assert any("interop_bulkexportfile" in sql for sql in _writes(on_primary))
    file = BulkExportFile.objects.get(export=export)
    assert str(patient.uuid) in file.content
