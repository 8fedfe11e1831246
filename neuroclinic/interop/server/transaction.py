"""POST /fhir/: a transaction Bundle of Patient, Condition and QuestionnaireResponse.

All or nothing: 200 with a transaction-response Bundle, or an OperationOutcome
listing every entry at fault (nothing written).
"""

import json

from django.http import HttpRequest, HttpResponse

from neuroclinic.accounts.roles import Capability
from neuroclinic.interop.actions.imports import ImportRefused, import_bundle
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


@fhir_view(("POST",))
def transaction_bundle(request: HttpRequest) -> HttpResponse:
    user = bearer_user(request)
    if token_scopes(request) is not None:
        raise FhirError(
            403, "SMART access tokens are read-only; import with a personal token."
        )
    if not all(user.can(c) for c in IMPORT_CAPABILITIES) or user.organization is None:
        raise FhirError(
            403, "Your role may not import patients, diagnoses and questionnaires."
        )
    if request.content_type not in _JSON_TYPES:
        raise FhirError(415, "Send application/fhir+json.")
    if len(request.body) > MAX_BODY_BYTES:
        raise FhirError(413, "The Bundle is too large; split it.", code="too-costly")
    try:
        bundle = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise FhirError(400, "The body is not JSON.", code="structure") from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError(
            400, "POST to the base takes a transaction Bundle.", code="structure"
        )
    if bundle.get("type") != "transaction":
        raise FhirError(
            400, "Only transaction Bundles are taken here.", code="not-supported"
        )
    try:
        imported = import_bundle(bundle, organization=user.organization, by=user)
    except ImportRefused as exc:
        raise FhirError(
            422,
            "The Bundle was refused; nothing was written.",
            issues=[
                ("error", "processing", p.message, p.expression) for p in exc.problems
            ],
        ) from None
    entries = bundle["entry"]
    by_index = {i.index: i for i in imported}
    return fhir_json(
        {
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [
                {
                    "response": {
                        "status": "201 Created",
                        "location": f"{by_index[n].resource_type}/{by_index[n].id}",
                    }
                }
                for n in range(len(entries))
            ],
        }
    )
