"""DocumentReference for signed letters, consents and infusion notes, and their PDFs
at Binary/<id> (docs/fhir.md, "Documents")."""

import base64
import hashlib
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.models import InfusionNote, InfusionSession
from neuroclinic.intake.actions import consents
from neuroclinic.intake.models import ConsentSignature
from neuroclinic.intake.tests.factories import publish_all, signature_png
from neuroclinic.interop.tests.test_bulk_export import (
    kick_off,
    run,
    status_path,
    streamed,
)
from neuroclinic.interop.tests.test_fhir_server import Fhir, body, validate
from neuroclinic.interop.tests.test_medplum_validation import medplum_validate
from neuroclinic.letters.actions import letters
from neuroclinic.letters.models import Letter


def _sha1(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data).digest()).decode()  # noqa: S324 - FHIR Attachment.hash is SHA-1


@pytest.fixture
def documented(
    charted: InfusionSession, nurse: User, prescriber: User
) -> dict[str, Any]:
    """The chart with a signed consent (its PDF stored), a signed infusion note and
    an unsigned draft letter beside the signed one."""
    patient = charted.patient
    forms = publish_all(patient.organization)
    signature = consents.sign_consent(
        patient,
        forms["ketamine"],
        typed_name="Casey Testova",
        signature_png=signature_png(1),
        ip_address="203.0.113.9",
        channel=ConsentSignature.Channel.PORTAL,
    )
    body_text = "Infusion given as ordered.\nDischarged with escort."
    note = InfusionNote.objects.create(
        session=charted,
        body=body_text,
        body_sha256=hashlib.sha256(body_text.encode()).hexdigest(),
        signed_by=nurse,
        signed_at=timezone.now(),
    )
    signed = Letter.objects.get(patient=patient)
    draft = letters.draft_letter(
        patient, kind="consult", recipient=signed.recipient, by=prescriber
    )
    return {"consent": signature, "note": note, "letter": signed, "draft": draft}


def _pdf_of(fhir: Fhir, user: User, attachment: dict[str, Any]) -> bytes:
    response = fhir(user, attachment["url"], headers={"Accept": "application/pdf"})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    data: bytes = response.content
    return data


def test_each_signed_document_reads_with_a_pdf_whose_sha1_is_its_hash(
    documented: dict[str, Any], director: User, fhir: Fhir
) -> None:
    patient = documented["letter"].patient
    bundle = body(fhir(director, "DocumentReference", patient=str(patient.uuid)))
    validate(bundle)
    found = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    consent = documented["consent"]
    session_id = str(documented["note"].session.uuid)
    assert set(found) == {str(documented["letter"].uuid), str(consent.uuid), session_id}
    assert str(documented["draft"].uuid) not in found  # drafts are not served
    loinc = {
        rid: next(
            c["code"] for c in r["type"]["coding"] if c["system"] == "http://loinc.org"
        )
        for rid, r in found.items()
    }
    assert loinc == {
        str(documented["letter"].uuid): "51852-2",
        str(consent.uuid): "59284-0",
        session_id: "34746-8",
    }
    checked: list[dict[str, Any]] = [bundle]
    for rid, searched in found.items():
        pdf_content = searched["content"][-1]["attachment"]
        assert pdf_content["url"] == f"Binary/{rid}"
        assert "hash" not in pdf_content  # a search renders no PDF
        one = body(fhir(director, f"DocumentReference/{rid}"))
        validate(one)
        assert one["status"] == "current"
        attachment = one["content"][-1]["attachment"]
        assert attachment["contentType"] == "application/pdf"
        data = _pdf_of(fhir, director, attachment)
        assert data.startswith(b"%PDF")
        assert attachment["hash"] == _sha1(data)
        assert attachment["size"] == len(data)
        # The same bytes as FHIR JSON: a Binary resource in base64.
        as_json = body(
            fhir(director, f"Binary/{rid}", headers={"Accept": "application/fhir+json"})
        )
        validate(as_json)
        assert base64.b64decode(as_json["data"]) == data
        assert as_json["securityContext"] == {"reference": f"DocumentReference/{rid}"}
        checked += [one, as_json]
    # The second, independent validator (invariants, cardinalities) on every kind.
    reports = medplum_validate(checked)
    assert not [r for r in reports if r["errors"]], reports
    # The consent's PDF is the one stored at signing, byte for byte.
    consent.pdf.open("rb")
    stored = consent.pdf.read()
    consent.pdf.close()
    assert _pdf_of(fhir, director, {"url": f"Binary/{consent.uuid}"}) == stored
    note_ref = body(fhir(director, f"DocumentReference/{session_id}"))
    assert note_ref["authenticator"] == {
        "reference": f"Practitioner/{documented['note'].signed_by.uuid}"
    }
    assert note_ref["context"]["related"] == [{"reference": f"Encounter/{session_id}"}]


def test_binary_reads_are_audited_and_drafts_and_other_clinics_are_404(
    documented: dict[str, Any], director: User, outsider: User, fhir: Fhir
) -> None:
    consent = documented["consent"]
    before = AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_READ_API)
    count = before.count()
    assert fhir(director, f"Binary/{consent.uuid}").status_code == 200
    event = AuditEvent.objects.filter(
        action=AuditEvent.Action.PATIENT_READ_API
    ).order_by("-id")[0]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PATIENT_READ_API
    ).count() == (count + 1)
    assert event.data["resource_type"] == "Binary"
    assert event.data["ids"] == [str(consent.uuid)]
    draft = documented["draft"]
    for path in (f"DocumentReference/{draft.uuid}", f"Binary/{draft.uuid}"):
        response = fhir(director, path)
        assert response.status_code == 404
        assert body(response)["resourceType"] == "OperationOutcome"
    for path in (f"DocumentReference/{consent.uuid}", f"Binary/{consent.uuid}"):
        response = fhir(outsider, path)
        assert response.status_code == 404, path
        assert body(response)["resourceType"] == "OperationOutcome"
    assert body(fhir(outsider, "DocumentReference"))["total"] == 0


def test_document_search_parameters(
    documented: dict[str, Any], director: User, nurse: User, fhir: Fhir
) -> None:
    patient = str(documented["letter"].patient.uuid)

    def ids(user: User = director, **params: str) -> set[str]:
        response = fhir(user, "DocumentReference", patient=patient, **params)
        assert response.status_code == 200, response.content[:300]
        return {e["resource"]["id"] for e in body(response).get("entry", [])}

    letter, consent = str(documented["letter"].uuid), str(documented["consent"].uuid)
    note = str(documented["note"].session.uuid)
    assert ids(type="http://loinc.org|59284-0") == {consent}
    assert ids(type="34746-8,51852-2") == {note, letter}
    assert (
        ids(type="http://loinc.org|11488-4") == set()
    )  # the signed letter is no consult
    assert ids(category="clinical-note") == {letter, consent, note}
    assert ids(category="discharge-summary") == set()
    assert ids(_id=f"{consent},{note}") == {consent, note}
    today = timezone.now().date().isoformat()
    assert ids(date=f"ge{today}") == {letter, consent, note}
    assert ids(date=f"lt{today}") == set()
    assert ids(_lastUpdated=f"gt{today}") == set()
    # Paging: one a page, every document once.
    seen: list[str] = []
    page = body(fhir(director, "DocumentReference", patient=patient, _count=1))
    while True:
        seen += [e["resource"]["id"] for e in page["entry"]]
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nxt:
            break
        page = body(fhir(director, nxt[0].split("/fhir/", 1)[1]))
    assert sorted(seen) == sorted({letter, consent, note})
    # A nurse reads consents and infusion notes, not letters (as in the app).
    assert ids(nurse) == {consent, note}
    assert fhir(nurse, f"DocumentReference/{letter}").status_code == 404
    assert fhir(nurse, f"Binary/{letter}").status_code == 404
    # Bad parameters: OperationOutcome 400.
    for bad in ({"date": "soon"}, {"status": "current"}, {"_lastUpdated": "2026-13"}):
        response = fhir(director, "DocumentReference", **bad)
        assert response.status_code == 400, bad
        assert body(response)["resourceType"] == "OperationOutcome"
    assert fhir(director, f"Binary/{consent}", _format="xml").status_code == 406


def test_everything_and_export_carry_the_documents(
    documented: dict[str, Any],
    director: User,
    fhir: Fhir,
    client: Client,
    bearer: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    patient = documented["letter"].patient
    everything = body(fhir(director, f"Patient/{patient.uuid}/$everything"))
    documents = [
        e["resource"]
        for e in everything["entry"]
        if e["resource"]["resourceType"] == "DocumentReference"
    ]
    assert len(documents) == 3
    assert all(
        d["content"][-1]["attachment"]["url"].startswith("Binary/") for d in documents
    )
    # A bulk export writes each DocumentReference with its Binary url and renders
    # no PDF: no size or hash there (docs/fhir.md).
    headers = bearer(director)
    with django_capture_on_commit_callbacks(execute=False):
        started = kick_off(
            client, headers, "Patient/$export", _type="DocumentReference"
        )
    assert started.status_code == 202, started.content[:300]
    run(started)
    manifest = client.get(status_path(started), headers=headers).json()
    [output] = manifest["output"]
    assert output["type"] == "DocumentReference"
    file = client.get("/fhir/" + output["url"].split("/fhir/", 1)[1], headers=headers)
    lines = [json.loads(line) for line in streamed(file).splitlines()]
    assert {r["id"] for r in lines} == {d["id"] for d in documents}
    for r in lines:
        validate(r)
        pdf = r["content"][-1]["attachment"]
        assert pdf["url"] == f"Binary/{r['id']}"
        assert "hash" not in pdf
        assert "size" not in pdf


def test_an_addendum_amends_the_document_and_its_pdf(
    documented: dict[str, Any], director: User, nurse: User, fhir: Fhir
) -> None:
    from neuroclinic.infusions.actions import notes
    from neuroclinic.infusions.pdf import note_pdf

    note = documented["note"]
    rid = str(note.session.uuid)
    before = body(fhir(director, f"DocumentReference/{rid}"))
    assert before["docStatus"] == "final"
    # The same note renders the same bytes every time (the hash relies on it).
    assert note_pdf(note) == note_pdf(note)
    addendum = notes.add_addendum(note, text="Called next day: well.", by=nurse)
    after = body(fhir(director, f"DocumentReference/{rid}"))
    validate(after)
    assert after["status"] == "current"
    assert after["docStatus"] == "amended"
    assert after["meta"]["lastUpdated"].startswith(addendum.added_at.isoformat()[:19])
    hashes = [d["content"][-1]["attachment"]["hash"] for d in (before, after)]
    assert hashes[0] != hashes[1]
    pdf = fhir(director, f"Binary/{rid}").content
    assert _sha1(pdf) == hashes[1]
    today = timezone.now().date().isoformat()
    response = fhir(director, "DocumentReference", _lastUpdated=f"ge{today}")
    assert rid in {e["resource"]["id"] for e in body(response)["entry"]}
