"""The FHIR R4 server at /fhir/: metadata, read and search (docs/fhir.md).

Bearer tokens only (a personal API token). Every answer is application/fhir+json;
refusals are OperationOutcome. Every read and search that shows patient data records
who saw which resources (`actions.record_fhir_read`).
"""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse

from neuroclinic.accounts.models import User
from neuroclinic.interop import actions
from neuroclinic.interop.fhir.clinical import Resource
from neuroclinic.interop.server.http import (
    FHIR_JSON,
    FhirError,
    bearer_user,
    fhir_json,
    fhir_view,
    token_scopes,
)
from neuroclinic.interop.server.params import parse_count, parse_offset
from neuroclinic.interop.server.registry import (
    RESOURCE_TYPES,
    Params,
    ResourceType,
    authorise,
)
from neuroclinic.patients.models import Patient

FHIR_VERSION = "4.0.1"
# Parameters every search takes besides its own.
_RESULT_PARAMS = frozenset({"_count", "_offset", "_format", "_include"})
# `_include=<Type>:<param>`: where in the matched resource the reference is, and
# the type it points at. "patient" and "subject" work on every patient-data type.
_INCLUDES: dict[str, tuple[tuple[str, ...], str]] = {
    "patient": (("subject", "patient"), "Patient"),
    "subject": (("subject", "patient"), "Patient"),
    "performer": (("performer",), "Practitioner"),
    "context": (("context", "encounter"), "Encounter"),
    "encounter": (("encounter", "context"), "Encounter"),
    "practitioner": (("practitioner",), "Practitioner"),
    "organization": (("organization", "managingOrganization"), "Organization"),
    "recorder": (("recorder",), "Practitioner"),
}
# Patient search parameters that identify a person: only in a POST body (docs/security.md).
IDENTIFYING_PARAMS = frozenset({"name", "family", "given", "birthdate", "identifier"})
_JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})


def _query(request: HttpRequest) -> Params:
    return [(name, value) for name, values in request.GET.lists() for value in values]


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir")


def _resource_type(name: str) -> ResourceType:
    found = RESOURCE_TYPES.get(name)
    if found is None:
        raise FhirError(
            404,
            f"This server does not serve {name[:40]!r} resources.",
            code="not-supported",
        )
    return found


def _check_format(request: HttpRequest, params: Params) -> None:
    for name, value in params:
        if name == "_format" and value not in _JSON_FORMATS:
            raise FhirError(406, "Only JSON is served (_format=json).")
    accept = request.headers.get("Accept", "")
    if accept and not any(kind in accept for kind in ("json", "*/*", "application/*")):
        raise FhirError(406, "Only JSON is served (Accept: application/fhir+json).")


def capability_statement(request: HttpRequest) -> Resource:
    resources: list[Resource] = []
    for t in RESOURCE_TYPES.values():
        entry: Resource = {
            "type": t.name,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {"name": p.name, "type": p.type, "documentation": p.documentation}
                for p in t.params
            ],
        }
        if t.profiles:
            entry["supportedProfile"] = list(t.profiles)
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(UTC).date().isoformat(),
        "publisher": "Neuroclinic",
        "kind": "instance",
        "instantiates": [
            "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"
        ],
        "software": {"name": "Neuroclinic"},
        "implementation": {
            "description": "Neuroclinic FHIR R4 server",
            "url": _base(request),
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read and search only, except the transaction import at the base."
                    " Searches page with _count (at most 100) and _offset; an unknown"
                    " parameter is refused unless Prefer: handling=lenient."
                ),
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": (
                        "Authorization: Bearer <personal API token>"
                        " (neuroclinic token create), or a SMART Backend Services"
                        " access token from /fhir/auth/token (system read scopes)."
                    ),
                },
                "resource": resources,
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                        "documentation": (
                            "System, Patient/$export and Group/<clinic id>/$export"
                            " (the one Group is the clinic); _type, _since."
                        ),
                    }
                ],
            }
        ],
    }


@fhir_view(("GET",))
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement; public, like every FHIR server's (no patient data)."""
    _check_format(request, _query(request))
    return fhir_json(capability_statement(request))


def _audit(
    user: User,
    t: ResourceType,
    found: list[tuple[Patient | None, Resource]],
    query: str = "",
) -> None:
    if t.patient_data:
        actions.record_fhir_read(
            ((p, str(r["id"])) for p, r in found),
            resource_type=t.name,
            query=query,
            by=user,
        )


@fhir_view(("GET",))
def read(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    t = _resource_type(resource_type)
    user = bearer_user(request)
    authorise(user, t, token_scopes(request))
    _check_format(request, _query(request))
    patient, resource = t.read(user, resource_id)
    _audit(user, t, [(patient, resource)])
    return fhir_json(resource)


def _lenient(request: HttpRequest) -> bool:
    prefer = request.headers.get("Prefer", "")
    return "handling=lenient" in prefer.replace(" ", "")


def _params(request: HttpRequest, t: ResourceType) -> Params:
    """The query's parameters, refusing (or, when lenient, dropping) unknown ones."""
    pairs: Params = []
    data = request.POST if request.method == "POST" else request.GET
    for name, values in data.lists():
        for value in values:
            pairs.append((name, value))
    allowed = t.param_names | _RESULT_PARAMS
    unknown = sorted({n for n, _ in pairs if n not in allowed})
    if unknown and not _lenient(request):
        raise FhirError(
            400,
            f"{t.name} does not support the search parameters: {', '.join(unknown)}"
            " (send Prefer: handling=lenient to ignore them).",
            code="not-supported",
        )
    return [(n, v) for n, v in pairs if n in allowed]


def _references(resource: Resource, keys: tuple[str, ...], target: str) -> list[str]:
    """The ids of `target` resources that `resource` refers to under `keys`."""
    out = []
    for key in keys:
        value = resource.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "actor" in item:
                item = item["actor"]
            ref = item.get("reference", "") if isinstance(item, dict) else ""
            kind, _, ident = str(ref).partition("/")
            if kind == target and ident:
                out.append(ident)
    return out


def _included(
    request: HttpRequest,
    user: User,
    t: ResourceType,
    params: Params,
    found: list[tuple[Patient | None, Resource]],
) -> list[Resource]:
    """The resources `_include` asks for, each read through its own type's search
    (so its own capability check and audit apply); an unknown pair is refused."""
    out: list[Resource] = []
    seen: set[tuple[str, str]] = set()
    for name, value in params:
        if name != "_include":
            continue
        source_type, _, param = value.partition(":")
        spec = _INCLUDES.get(param)
        if source_type != t.name or spec is None:
            raise FhirError(
                400,
                f"_include={value[:60]} is not supported; use {t.name}:<param> with"
                f" one of {', '.join(sorted(_INCLUDES))}.",
                code="not-supported",
            )
        keys, target_name = spec
        ids = sorted(
            {i for _, r in found for i in _references(r, keys, target_name)}
            - {i for kind, i in seen if kind == target_name}
        )
        if not ids:
            continue
        target = RESOURCE_TYPES[target_name]
        authorise(user, target, token_scopes(request))
        rows: list[tuple[Patient | None, Resource]] = []
        for source in target.search(user, [("_id", ",".join(ids))]):
            rows.extend(source.page(0, source.count()))
        _audit(user, target, rows, f"_include={value}")
        for _, r in rows:
            seen.add((target_name, str(r["id"])))
            out.append(r)
    return out


def _link(
    request: HttpRequest, t: ResourceType, params: Params, offset: int, count: int
) -> str:
    query = [(n, v) for n, v in params if n not in ("_offset", "_count")]
    query += [("_count", str(count)), ("_offset", str(offset))]
    return f"{_base(request)}/{t.name}?{urlencode(query)}"


@fhir_view(("GET", "POST"))
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    t = _resource_type(resource_type)
    user = bearer_user(request)
    authorise(user, t, token_scopes(request))
    params = _params(request, t)
    _check_format(request, params)
    identifying = sorted({n for n, _ in params if n in IDENTIFYING_PARAMS})
    if identifying and request.method != "POST":
        raise FhirError(
            400,
            f"Send a search by {', '.join(identifying)} as POST /fhir/{t.name}/_search"
            " (form body), so names and dates of birth stay out of URLs and logs.",
        )
    count = parse_count(next((v for n, v in params if n == "_count"), None))
    offset = parse_offset(next((v for n, v in params if n == "_offset"), None))
    sources = t.search(user, params)
    totals = [s.count() for s in sources]
    total = sum(totals)
    found: list[tuple[Patient | None, Resource]] = []
    start, stop = offset, offset + count
    before = 0
    for source, size in zip(sources, totals, strict=True):
        lo, hi = max(start - before, 0), min(stop - before, size)
        if lo < hi:
            found.extend(source.page(lo, hi))
        before += size
    _audit(user, t, found, urlencode(params))
    included = _included(request, user, t, params, found)
    links = [{"relation": "self", "url": _link(request, t, params, offset, count)}]
    if identifying:
        # No URL may carry the names: page by POSTing again with _offset.
        links = []
    elif stop < total:
        links.append(
            {"relation": "next", "url": _link(request, t, params, stop, count)}
        )
    if offset > 0 and not identifying:
        links.append(
            {
                "relation": "previous",
                "url": _link(request, t, params, max(offset - count, 0), count),
            }
        )
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{_base(request)}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for _, r in found
        ]
        + [
            {
                "fullUrl": f"{_base(request)}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "include"},
            }
            for r in included
        ],
    }
    if not bundle["entry"]:
        del bundle["entry"]
    return fhir_json(bundle)


_EVERYTHING_PARAMS = frozenset({"_type", "_format"})


@fhir_view(("GET",))
def everything(request: HttpRequest, resource_id: str) -> HttpResponse:
    """Patient/<id>/$everything: the patient and every resource of theirs the caller
    may read (types the caller's role or token may not read are left out, not
    refused), as one searchset Bundle; `_type` narrows it. Not paged."""
    user = bearer_user(request)
    patient_type = RESOURCE_TYPES["Patient"]
    authorise(user, patient_type, token_scopes(request))
    params = _query(request)
    _check_format(request, params)
    unknown_params = sorted({n for n, _ in params} - _EVERYTHING_PARAMS)
    if unknown_params and not _lenient(request):
        raise FhirError(
            400,
            f"$everything does not support: {', '.join(unknown_params)}.",
            code="not-supported",
        )
    wanted = {
        part.strip()
        for n, v in params
        if n == "_type"
        for part in v.split(",")
        if part.strip()
    }
    unknown_types = sorted(wanted - set(RESOURCE_TYPES))
    if unknown_types:
        raise FhirError(
            400, f"_type: not served here: {', '.join(x[:40] for x in unknown_types)}."
        )
    patient, resource = patient_type.read(user, resource_id)
    _audit(user, patient_type, [(patient, resource)], "$everything")
    entries: list[Resource] = [resource] if not wanted or "Patient" in wanted else []
    reference = f"Patient/{resource['id']}"
    for t in RESOURCE_TYPES.values():
        if not t.patient_data or t.name == "Patient" or "patient" not in t.param_names:
            continue
        if wanted and t.name not in wanted:
            continue
        try:
            authorise(user, t, token_scopes(request))
        except FhirError:
            continue
        found: list[tuple[Patient | None, Resource]] = []
        for source in t.search(user, [("patient", reference)]):
            found.extend(source.page(0, source.count()))
        _audit(user, t, found, "$everything")
        entries.extend(r for _, r in found)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "link": [
            {
                "relation": "self",
                "url": f"{_base(request)}/Patient/{resource['id']}/$everything",
            }
        ],
        "entry": [
            {
                "fullUrl": f"{_base(request)}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in entries
        ],
    }
    return fhir_json(bundle)


@fhir_view(("GET", "POST", "PUT", "PATCH", "DELETE"))
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Anything else under /fhir/: an OperationOutcome, never the HTML 404 page."""
    raise FhirError(404, "No such FHIR endpoint on this server.", code="not-supported")


__all__ = ["FHIR_JSON", "everything", "metadata", "read", "search", "unknown"]
