"""Bulk Data export: kick-off, status polling, NDJSON files, cancel, expiry, access, audit."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.interop import actions, tasks
from neuroclinic.interop.models import BulkExport, BulkExportFile
from neuroclinic.interop.server.http import dumps
from neuroclinic.operations.schedule import PERIODIC_JOBS

Headers = Callable[[User], dict[str, str]]
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def kick_off(
    client: Client, headers: dict[str, str], path: str = "$export", **params: str
) -> Any:
    return client.get(f"/fhir/{path}", params, headers=headers | ASYNC)


def streamed(response: Any) -> str:
    """A streamed download's body."""
    return b"".join(response.streaming_content).decode()


def status_path(response: Any) -> Any:
    return "/fhir/" + response["Content-Location"].split("/fhir/", 1)[1]


def run(response: Any) -> None:
    export_uuid = response["Content-Location"].rsplit("/", 1)[1]
    tasks.run_bulk_export.call(export_uuid)


def test_system_export_round_trip(
    charted: InfusionSession,
    director: User,
    client: Client,
    bearer: Headers,
    django_capture_on_commit_callbacks: Any,
) -> None:
    headers = bearer(director)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = kick_off(client, headers)
    assert started.status_code == 202
    assert len(callbacks) == 1  # the task is queued after commit
    polled = client.get(status_path(started), headers=headers)
    assert polled.status_code == 202
    assert polled["X-Progress"]
    run(started)
    done = client.get(status_path(started), headers=headers)
    assert done.status_code == 200
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True
    types = {o["type"] for o in manifest["output"]}
    assert {
        "Patient",
        "Observation",
        "Encounter",
        "MedicationAdministration",
        "Questionnaire",
        "Condition",
        "Consent",
    } <= types
    for output in manifest["output"]:
        path = "/fhir/" + output["url"].split("/fhir/", 1)[1]
        file = client.get(path, headers=headers)
        assert file.status_code == 200
        assert file["Content-Type"] == "application/fhir+ndjson"
        assert file.streaming
        lines = streamed(file).splitlines()
        assert len(lines) == output["count"]
        for line in lines:
            resource = json.loads(line)
            assert resource["resourceType"] == output["type"]
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    # The same export run again (a second worker, a retry) writes nothing more.
    files = BulkExportFile.objects.count()
    run(started)
    assert BulkExportFile.objects.count() == files
    stages = [
        e.data["stage"]
        for e in AuditEvent.objects.filter(
            action=AuditEvent.Action.CHART_EXPORTED
        ).order_by("id")
    ]
    assert stages[:2] == ["requested", "completed"]
    assert "downloaded" in stages


def _exported(client: Client, headers: dict[str, str], started: Any) -> list[Any]:
    manifest = client.get(status_path(started), headers=headers).json()
    found = []
    for output in manifest["output"]:
        path = "/fhir/" + output["url"].split("/fhir/", 1)[1]
        found += streamed(client.get(path, headers=headers)).splitlines()
    return sorted(json.loads(line)["id"] for line in found)


def test_export_walks_every_row_once_whatever_the_batch_size(
    charted: InfusionSession,
    director: User,
    client: Client,
    bearer: Headers,
    fhir: Callable[..., Any],
) -> None:
    """Keyset batches of one row and of the default size export the same resources,
    and the same ones the server's searches return (no row lost or repeated at a
    batch boundary, the EtCO2 and score Observations included)."""
    from neuroclinic.infusions.actions import monitoring
    from neuroclinic.infusions.tests.factories import NORMAL
    from neuroclinic.interop.export import run_export

    monitoring.record_typed_vitals(charted, {**NORMAL, "etco2_mmhg": 41}, by=director)
    headers = bearer(director)
    by_size = []
    for size in (1, 2, 2000):
        started = kick_off(client, headers)
        run_export(started["Content-Location"].rsplit("/", 1)[1], batch_size=size)
        by_size.append(_exported(client, headers, started))
    assert by_size[0] == by_size[1] == by_size[2]
    searched = []
    for resource_type in ("Patient", "Observation", "Condition", "Encounter"):
        bundle = fhir(director, resource_type, _count=100).json()
        assert bundle["total"] == len(bundle["entry"])
        searched += [e["resource"]["id"] for e in bundle["entry"]]
    assert set(searched) <= set(by_size[0])
    assert any(i.endswith("-etco2") for i in by_size[0])


def test_type_and_since_narrow_the_export(
    charted: InfusionSession, director: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    started = kick_off(client, headers, "Patient/$export", _type="Patient,Condition")
    run(started)
    manifest = client.get(status_path(started), headers=headers).json()
    assert {o["type"] for o in manifest["output"]} == {"Patient", "Condition"}
    later = (timezone.now() + timedelta(days=1)).isoformat()
    started = kick_off(client, headers, "Patient/$export", _since=later)
    run(started)
    assert client.get(status_path(started), headers=headers).json()["output"] == []


def test_group_export_is_the_clinic(
    charted: InfusionSession, director: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    assert director.organization is not None
    ok = kick_off(client, headers, f"Group/{director.organization.uuid}/$export")
    assert ok.status_code == 202
    other = kick_off(
        client, headers, "Group/00000000-0000-0000-0000-000000000000/$export"
    )
    assert other.status_code == 404
    assert other.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({}, {"Prefer": ""}),
        ({"_type": "Practitioner"}, ASYNC),
        ({"_type": "Patient,"}, ASYNC),
        ({"_since": "yesterday"}, ASYNC),
        ({"_since": "2024-01-01T00:00:00"}, ASYNC),
        ({"_outputFormat": "text/csv"}, ASYNC),
        ({"_typeFilter": "Patient?gender=female"}, ASYNC),
    ],
)
def test_bad_kick_offs_are_refused(
    director: User,
    client: Client,
    bearer: Headers,
    params: dict[str, str],
    headers: dict[str, str],
) -> None:
    response = client.get(
        "/fhir/Patient/$export", params, headers=bearer(director) | headers
    )
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not BulkExport.objects.exists()


def test_cancel_deletes_files_and_answers_404_after(
    charted: InfusionSession, director: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    started = kick_off(client, headers)
    run(started)
    assert client.delete(status_path(started), headers=headers).status_code == 202
    assert not BulkExportFile.objects.exists()
    assert client.get(status_path(started), headers=headers).status_code == 404
    assert client.delete(status_path(started), headers=headers).status_code == 404


def test_a_cancelled_export_writes_nothing_when_the_worker_runs(
    charted: InfusionSession, director: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    started = kick_off(client, headers)
    client.delete(status_path(started), headers=headers)
    run(started)
    assert not BulkExportFile.objects.exists()


def test_files_expire(
    charted: InfusionSession, director: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    started = kick_off(client, headers)
    run(started)
    url = client.get(status_path(started), headers=headers).json()["output"][0]["url"]
    assert actions.expire_exports() == 0
    assert actions.expire_exports(now=timezone.now() + timedelta(days=2)) > 0
    BulkExport.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(status_path(started), headers=headers).status_code == 404
    assert (
        client.get("/fhir/" + url.split("/fhir/", 1)[1], headers=headers).status_code
        == 404
    )
    assert "neuroclinic.interop.tasks.expire_bulk_exports" in {
        j.task for j in PERIODIC_JOBS
    }


def test_only_the_requester_reads_the_status_and_files(
    charted: InfusionSession,
    director: User,
    client: Client,
    bearer: Headers,
    request: pytest.FixtureRequest,
) -> None:
    started = kick_off(client, bearer(director))
    run(started)
    manifest = client.get(status_path(started), headers=bearer(director)).json()
    file_path = "/fhir/" + manifest["output"][0]["url"].split("/fhir/", 1)[1]
    other = request.getfixturevalue(sorted(EXPORTERS - {"director"})[0])
    assert client.get(status_path(started), headers=bearer(other)).status_code == 404
    assert client.get(file_path, headers=bearer(other)).status_code == 404
    mine = bearer(director)
    assert (
        client.get("/fhir/$export-status/not-a-uuid", headers=mine).status_code == 404
    )
    assert client.get("/fhir/$export-file/not-a-uuid", headers=mine).status_code == 404


EXPORTERS = (
    personas_with(Capability.EXPORT_CHART)
    & personas_with(Capability.VIEW_CHART)
    & personas_with(Capability.VIEW_INFUSIONS)
    & personas_with(Capability.VIEW_CONSENTS)
)


@pytest.mark.parametrize("persona", [p for p in EVERYONE if p != "anonymous"])
def test_who_may_export(
    patient: Any,
    client: Client,
    bearer: Headers,
    request: pytest.FixtureRequest,
    persona: str,
) -> None:
    user = request.getfixturevalue(persona)
    response = kick_off(client, bearer(user), "Patient/$export")
    # The outsider is a nurse elsewhere: their own clinic's export, if a nurse may.
    as_persona = "nurse" if persona == "outsider" else persona
    assert response.status_code == expected_status(as_persona, EXPORTERS, ok=202)


def test_export_batches_load_every_column_they_use(
    charted: InfusionSession, director: User
) -> None:
    """Export batches load only the columns each mapper reads (`Source.only`): a
    column left out would cost a query per row, so expanding a batch costs none
    (or, for the batched types, the same few lookups however many rows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from neuroclinic.infusions.actions import monitoring
    from neuroclinic.infusions.tests.factories import NORMAL
    from neuroclinic.interop.server.registry import RESOURCE_TYPES

    monitoring.record_typed_vitals(charted, {**NORMAL, "etco2_mmhg": 41}, by=director)
    narrowed = 0
    for resource_type in RESOURCE_TYPES.values():
        for source in resource_type.search(director, []):
            for batch in source.batches(100):
                with CaptureQueriesContext(connection) as captured:
                    for row in batch:
                        source.patient_of(row)
                    found = source.expand(batch)
                assert found, resource_type.name
                if source.only:
                    narrowed += 1
                    assert len(captured) == 0, (resource_type.name, captured[0])
                else:
                    assert len(captured) <= 3, resource_type.name
    assert narrowed >= 5  # conditions, responses, scores, vitals, EtCO2


def test_files_stream_in_slices_without_reading_the_whole_file(
    charted: InfusionSession,
    director: User,
    front_desk: User,
    client: Client,
    bearer: Headers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A download is read from the database a slice at a time: what arrives is the
    stored file byte for byte (slices cut by characters, so a name with accents
    split across two slices stays valid UTF-8), and no query reads the whole
    content column."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from neuroclinic.interop.server import bulk
    from neuroclinic.patients.actions import register_patient
    from neuroclinic.patients.models import Patient

    register_patient(
        charted.patient.organization,
        by=front_desk,
        family_name="Ñúñez-Ørsted",
        given_name="Zoë",
        birth_date=charted.patient.birth_date,
        sex_at_birth=Patient.SexAtBirth.FEMALE,
    )
    headers = bearer(director)
    started = kick_off(client, headers, _type="Patient")
    run(started)
    manifest = client.get(status_path(started), headers=headers).json()
    monkeypatch.setattr(bulk, "CHUNK_CHARACTERS", 7)
    for output in manifest["output"]:
        path = "/fhir/" + output["url"].split("/fhir/", 1)[1]
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, headers=headers)
            assert response.streaming
            chunks = list(response.streaming_content)  # type: ignore[attr-defined]
        stored = BulkExportFile.objects.get(uuid=path.rsplit("/", 1)[1]).content
        assert b"".join(chunks).decode() == stored
        assert "Zoë" in stored
        assert len(chunks) == -(-len(stored) // 7)
        whole = re.compile(
            r'(?<!SUBSTR\()(?<!SUBSTRING\()"interop_bulkexportfile"\."content"'
        )
        assert not [
            q["sql"] for q in queries.captured_queries if whole.search(q["sql"])
        ]


def test_every_exported_line_is_byte_for_byte_the_read(
    charted: InfusionSession,
    director: User,
    client: Client,
    bearer: Headers,
) -> None:
    """The export reads value tuples, not model instances (for speed); each line of
    every type is still exactly the bytes a read of that resource answers."""
    from neuroclinic.infusions.actions import monitoring
    from neuroclinic.infusions.tests.factories import NORMAL
    from neuroclinic.interop.export import SYSTEM_TYPES

    monitoring.record_typed_vitals(charted, {**NORMAL, "etco2_mmhg": 41}, by=director)
    headers = bearer(director)
    started = kick_off(client, headers)
    run(started)
    manifest = client.get(status_path(started), headers=headers).json()
    seen: set[str] = set()
    for output in manifest["output"]:
        path = "/fhir/" + output["url"].split("/fhir/", 1)[1]
        for line in streamed(client.get(path, headers=headers)).splitlines():
            resource = json.loads(line)
            read = client.get(
                f"/fhir/{resource['resourceType']}/{resource['id']}", headers=headers
            )
            assert read.status_code == 200, line
            content = read.content
            if resource["resourceType"] == "DocumentReference":
                # A read renders the one PDF and adds its size and hash; an export
                # renders none (doc13g, docs/fhir.md): the rest is the same bytes.
                as_read = json.loads(content)
                pdf = as_read["content"][-1]["attachment"]
                assert pdf.pop("size") > 0
                assert pdf.pop("hash")
                content = dumps(as_read)
            assert content == line.encode(), resource["resourceType"]
            seen.add(resource["resourceType"])
    assert seen == set(SYSTEM_TYPES)


def test_responses_are_read_once_for_both_of_their_types(
    charted: InfusionSession, director: User, client: Client, bearer: Headers
) -> None:
    """A response is both a QuestionnaireResponse and a score Observation: an export
    of both reads the response rows once and writes each type's file from that one
    read (the byte-for-byte test above checks what is written)."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from neuroclinic.interop.export import run_export

    headers = bearer(director)
    started = kick_off(
        client, headers, _type="QuestionnaireResponse,Observation,Patient"
    )
    with CaptureQueriesContext(connection) as captured:
        counts = run_export(started["Content-Location"].rsplit("/", 1)[1])
    reads = [
        q["sql"]
        for q in captured
        if re.match(r'SELECT .*? FROM "measures_questionnaireresponse"', q["sql"])
    ]
    assert len(reads) == 1, reads
    assert counts["QuestionnaireResponse"] >= 1
    assert counts["Observation"] > counts["QuestionnaireResponse"]  # and the vitals
    manifest = client.get(status_path(started), headers=headers).json()
    written = {o["type"]: o["count"] for o in manifest["output"]}
    assert written == counts
