"""POST /fhir/: a transaction or batch Bundle; POST /fhir/<Type>: create one resource.

Patient, Condition, AllergyIntolerance, MedicationStatement, MedicationRequest,
vital-sign Observations and QuestionnaireResponse (`interop.actions.imports`).
A transaction is all or nothing: a transaction-response Bundle, or an
OperationOutcome listing every entry at fault (nothing written). A batch answers
each entry on its own in a batch-response Bundle: `response.status`, `location`,
and an OperationOutcome in `response.outcome` for an entry that failed, matched
something already recorded, or was skipped.
"""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.interop.actions.imports import (
    EntryResult,
    ImportRefused,
    create_resource,
    import_bundle,
)
from neuroclinic.interop.fhir.clinical import operation_outcome
from neuroclinic.interop.fhir.inbound import IMPORTED_TYPES
from neuroclinic.interop.server.http import (
    FhirError,
    bearer_user,
    fhir_json,
    fhir_view,
    token_scopes,
)

# An import may write any of these; the caller must be allowed all of them.
IMPORT_CAPABILITIES = (
    Capability.REGISTER_PATIENT,
    Capability.EDIT_CLINICAL_LISTS,
    Capability.RECORD_MEASURES,
)
_JSON_TYPES = ("application/fhir+json", "application/json")
MAX_BODY_BYTES = 20 * 1024 * 1024


def _importer(request: HttpRequest) -> User:
    user = bearer_user(request)
    if token_scopes(request) is not None:
        raise FhirError(
            403, "SMART access tokens are read-only; import with a personal token."
        )
    if not all(user.can(c) for c in IMPORT_CAPABILITIES) or user.organization is None:
        raise FhirError(
            403, "Your role may not import patients, diagnoses and questionnaires."
        )
    return user


def _body(request: HttpRequest) -> Any:
    if request.content_type not in _JSON_TYPES:
        raise FhirError(415, "Send application/fhir+json.")
    if len(request.body) > MAX_BODY_BYTES:
        raise FhirError(413, "The Bundle is too large; split it.", code="too-costly")
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise FhirError(400, "The body is not JSON.", code="structure") from None


def entry_response(result: EntryResult) -> dict[str, Any]:
    """Bundle.entry.response for one result (FHIR R4 Bundle.entry.response)."""
    response: dict[str, Any] = {"status": result.status_text}
    if result.location:
        response["location"] = result.location
    if result.outcome == "failed":
        response["outcome"] = operation_outcome(
            [
                (
                    "error",
                    "duplicate" if p.status == 409 else "processing",
                    p.message,
                    p.expression,
                )
                for p in result.problems
            ]
        )
    elif result.message:
        response["outcome"] = operation_outcome(
            [
                (
                    "information" if result.outcome == "matched" else "warning",
                    "informational" if result.outcome == "matched" else "not-supported",
                    result.message,
                )
            ]
        )
    return {"response": response}


@fhir_view(("POST",))
def transaction_bundle(request: HttpRequest) -> HttpResponse:
    user = _importer(request)
    bundle = _body(request)
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError(
            400,
            "POST to the base takes a transaction or batch Bundle.",
            code="structure",
        )
    if bundle.get("type") not in ("transaction", "batch"):
        raise FhirError(
            400,
            "Only transaction and batch Bundles are taken here.",
            code="not-supported",
        )
    assert user.organization is not None
    try:
        results = import_bundle(bundle, organization=user.organization, by=user)
    except ImportRefused as exc:
        raise FhirError(
            exc.status,
            "The Bundle was refused; nothing was written.",
            issues=[
                (
                    "error",
                    "duplicate" if p.status == 409 else "processing",
                    p.message,
                    p.expression,
                )
                for p in exc.problems
            ],
        ) from None
    return fhir_json(
        {
            "resourceType": "Bundle",
            "type": f"{bundle['type']}-response",
            "entry": [entry_response(r) for r in results],
        }
    )


def create(request: HttpRequest, resource_type: str) -> HttpResponse:
    """POST /fhir/<Type> with a resource body: create it (FHIR R4 create), with the
    same checks as an import. 201 with Location; 200 when it was already recorded;
    409 for a likely duplicate Patient; 422 for bad content; 404 for an unknown
    subject."""
    user = _importer(request)
    resource = _body(request)
    if resource_type not in IMPORTED_TYPES:
        raise FhirError(
            405, f"{resource_type} cannot be created here.", code="not-supported"
        )
    if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
        raise FhirError(
            400, f"The body must be a {resource_type} resource.", code="structure"
        )
    assert user.organization is not None
    result = create_resource(resource, organization=user.organization, by=user)
    if result.outcome == "failed":
        raise FhirError(
            result.status,
            "Nothing was written.",
            issues=[
                (
                    "error",
                    "duplicate" if p.status == 409 else "processing",
                    p.message,
                    p.expression.replace("Bundle.entry[0].resource", resource_type),
                )
                for p in result.problems
            ],
        )
    if result.outcome == "skipped":
        raise FhirError(422, result.message, code="not-supported")
    response = fhir_json(
        entry_response(result)["response"].get("outcome")
        or operation_outcome([("information", "informational", "Created.")]),
        status=result.status,
    )
    response["Location"] = result.location
    return response
