"""FHIR R4 DocumentReference and Binary for signed documents kept as PDF: signed
letters, signed consents and signed infusion notes (docs/fhir.md, "Documents").

Each DocumentReference points at its PDF as `content.attachment.url` =
`Binary/<id>` (the same id as the DocumentReference), `contentType`
application/pdf. `size` and `hash` (the SHA-1 of the bytes, base64, as FHIR R4
defines `Attachment.hash`) are given only when the caller has the bytes at hand:
a read renders or opens the one PDF; a search, `$everything` or a bulk export does
not (a letter's or note's PDF is a WeasyPrint render on demand).

Type codes are LOINC document codes (docs/sources.md F1-F4); the category is US
Core's `clinical-note`.

Pure module: standard library and the interop codes only.
"""

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from neuroclinic.interop.fhir.clinical import Resource, fhir_instant
from neuroclinic.interop.fhir.codes import LOCAL_BASE, LOINC
from neuroclinic.interop.fhir.references import reference

PDF: Final = "application/pdf"
DOCUMENT_CATEGORY: Final = (
    "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
)
CLINICAL_NOTE: Final = "clinical-note"
LETTER_KINDS: Final = f"{LOCAL_BASE}/CodeSystem/letter-kind"
DOCUMENT_KINDS: Final = f"{LOCAL_BASE}/CodeSystem/document-kind"


@dataclass(frozen=True)
class DocType:
    code: str
    display: str


# LOINC document types (docs/sources.md F1-F4).
CONSULT_NOTE: Final = DocType("11488-4", "Consult note")
LETTER: Final = DocType("51852-2", "Letter")
CONSENT: Final = DocType("59284-0", "Patient Consent")
NURSE_NOTE: Final = DocType("34746-8", "Nurse Note")

# Our document kinds (the `type` search's local codes) and their LOINC type.
KINDS: Final = {
    "letter": LETTER,
    "consent": CONSENT,
    "infusion-note": NURSE_NOTE,
}
# A letter's kind whose LOINC type is more precise than "Letter".
LETTER_TYPES: Final = {"consult": CONSULT_NOTE}


def sha1_base64(data: bytes) -> str:
    """FHIR R4 `Attachment.hash`: the SHA-1 of the data, base64-encoded."""
    return base64.b64encode(hashlib.sha1(data).digest()).decode()  # noqa: S324 - FHIR Attachment.hash is SHA-1


def pdf_attachment(
    *, binary_id: UUID, title: str, created: datetime, data: bytes | None = None
) -> Resource:
    """The PDF as an attachment by url (`Binary/<id>`); with `size` and `hash` when
    its bytes are given."""
    attachment: Resource = {
        "contentType": PDF,
        "url": f"Binary/{binary_id}",
        "title": title,
        "creation": fhir_instant(created),
    }
    if data is not None:
        attachment["size"] = len(data)
        attachment["hash"] = sha1_base64(data)
    return attachment


def document_reference(
    *,
    document_id: UUID,
    patient_id: UUID,
    kind: str,
    doc_type: DocType,
    local_coding: Resource | None = None,
    title: str,
    signed_at: datetime,
    last_updated: datetime,
    amended: bool,
    authors: Sequence[tuple[str, UUID]],
    authenticator_id: UUID | None,
    custodian_id: UUID | None,
    attachments: Sequence[Resource],
    related: Sequence[tuple[str, UUID]] = (),
) -> Resource:
    """A signed document. `status` is always `current`: nothing we keep replaces a
    signed document (an addendum adds to it: `docStatus` `amended`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind: {kind!r}")
    codings: list[Resource] = [
        {"system": LOINC, "code": doc_type.code, "display": doc_type.display}
    ]
    if local_coding is not None:
        codings.append(local_coding)
    codings.append({"system": DOCUMENT_KINDS, "code": kind})
    resource: Resource = {
        "resourceType": "DocumentReference",
        "id": str(document_id),
        "meta": {"lastUpdated": fhir_instant(last_updated)},
        "status": "current",
        "docStatus": "amended" if amended else "final",
        "type": {"coding": codings, "text": title},
        "category": [
            {
                "coding": [
                    {
                        "system": DOCUMENT_CATEGORY,
                        "code": CLINICAL_NOTE,
                        "display": "Clinical Note",
                    }
                ]
            }
        ],
        "subject": reference("Patient", patient_id),
        "date": fhir_instant(signed_at),
    }
    if authors:
        resource["author"] = [reference(kind_, uuid) for kind_, uuid in authors]
    if authenticator_id is not None:
        resource["authenticator"] = reference("Practitioner", authenticator_id)
    if custodian_id is not None:
        resource["custodian"] = reference("Organization", custodian_id)
    resource["content"] = [{"attachment": a} for a in attachments]
    if related:
        resource["context"] = {
            "related": [reference(kind_, uuid) for kind_, uuid in related]
        }
    return resource


def text_attachment(
    *, text: str, content_type: str, title: str, created: datetime
) -> Resource:
    """Signed text inline (`data` base64), with its size and SHA-1."""
    data = text.encode()
    return {
        "contentType": content_type,
        "data": base64.b64encode(data).decode(),
        "size": len(data),
        "hash": sha1_base64(data),
        "title": title,
        "creation": fhir_instant(created),
    }


def binary_resource(*, binary_id: UUID, data: bytes, document_id: UUID) -> Resource:
    """The PDF as a FHIR Binary (JSON, base64 `data`), its access governed by the
    DocumentReference (`securityContext`)."""
    return {
        "resourceType": "Binary",
        "id": str(binary_id),
        "contentType": PDF,
        "securityContext": reference("DocumentReference", document_id),
        "data": base64.b64encode(data).decode(),
    }
