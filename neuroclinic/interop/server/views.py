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
from neuroclinic.interop.fhir.clinical import Resource, operation_outcome
from neuroclinic.interop.fhir.documents import PDF, binary_resource
from neuroclinic.interop.fhir.inbound import IMPORTED_TYPES
from neuroclinic.interop.fhir.scopes import may_read
from neuroclinic.interop.server import cursor as cursors
from neuroclinic.interop.server.http import (
    FHIR_JSON,
    FhirError,
    bearer_user,
    fhir_json,
    fhir_view,
    token_scopes,
)
from neuroclinic.interop.server.params import parse_count
from neuroclinic.interop.server.registry import (
    RESOURCE_TYPES,
    Params,
    ResourceType,
    Source,
    authorise,
    document_pdf,
)
from neuroclinic.patients.models import Patient

FHIR_VERSION = "4.0.1"
# Parameters every search takes besides its own.
_RESULT_PARAMS = frozenset(
    {"_count", "_cursor", "_offset", "_total", "_format", "_include", "_revinclude"}
)
# Parameters that say which page, not what is searched: not kept in a cursor.
_PAGING_PARAMS = frozenset({"_count", "_cursor", "_format"})
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
# `_revinclude=<Type>:<param>` on a search of the key type: the pairs served.
_REVINCLUDES: dict[str, dict[str, tuple[str, ...]]] = {
    "Patient": {
        name: tuple(p for p in ("patient", "subject") if p in rt.param_names)
        for name, rt in RESOURCE_TYPES.items()
        if rt.patient_data and name != "Patient"
    },
    "Encounter": {"MedicationAdministration": ("context",)},
}
REVINCLUDE_LIMIT = 1000
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
        interactions = ["read", "search-type"]
        if t.history is not None:
            interactions[1:1] = ["vread", "history-instance"]
        if t.name in IMPORTED_TYPES:  # fhirimp13f: create, as an import of one
            interactions.append("create")
        entry: Resource = {
            "type": t.name,
            "interaction": [{"code": code} for code in interactions],
            "versioning": "versioned" if t.versioned else "no-version",
            "readHistory": t.history is not None,
            "searchInclude": sorted(
                f"{t.name}:{p}" for p in _INCLUDES if p in t.param_names
            ),
            "searchRevInclude": sorted(
                f"{source}:{p}"
                for source, ps in _REVINCLUDES.get(t.name, {}).items()
                for p in ps
            ),
            "searchParam": [
                {"name": p.name, "type": p.type, "documentation": p.documentation}
                for p in t.params
            ],
        }
        for key in ("searchInclude", "searchRevInclude"):
            if not entry[key]:
                del entry[key]
        if t.profiles:
            entry["supportedProfile"] = list(t.profiles)
        if t.documentation:
            entry["documentation"] = t.documentation
        resources.append(entry)
    resources.append(
        {
            "type": "Binary",
            "interaction": [{"code": "read"}],
            "versioning": "no-version",
            "readHistory": False,
            "documentation": (
                "The PDF of a signed document (DocumentReference content.attachment"
                ".url): the PDF itself (Accept: application/pdf or anything not"
                " JSON), or a Binary resource with the bytes in base64 (Accept:"
                " application/fhir+json or _format=json). Read as its"
                " DocumentReference is (the same roles; audited); no search."
            ),
        }
    )
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
                    "Read, search, and vread and instance history where versions are"
                    " kept (chart list entries: recorded, then ended; records that"
                    " never change: one version). Writes are imports: a transaction"
                    " (all or nothing) or batch (each entry answered) Bundle at the"
                    " base, or a create of one Patient, Condition, AllergyIntolerance,"
                    " MedicationStatement, MedicationRequest (kept as a"
                    " MedicationStatement), vital-sign or questionnaire-total"
                    " Observation (served back as Observation/imported-<id>) or"
                    " QuestionnaireResponse. Searches page with _count (at most 100)"
                    " and the next link's sealed _cursor; the total is on the first"
                    " page (_total=accurate: every page, none: never). An unknown"
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
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
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


def _versions(
    request: HttpRequest, resource_type: str, resource_id: str
) -> tuple[User, ResourceType, Patient | None, list[Resource]]:
    t = _resource_type(resource_type)
    user = bearer_user(request)
    authorise(user, t, token_scopes(request))
    _check_format(request, _query(request))
    if t.history is None:
        raise FhirError(
            404,
            f"{t.name} records change without their versions being kept, so this"
            " server offers no history or vread for them (see the CapabilityStatement).",
            code="not-supported",
        )
    patient, versions = t.history(user, resource_id)
    return user, t, patient, versions


def _etag(resource: Resource) -> str:
    return f'W/"{resource["meta"]["versionId"]}"'


@fhir_view(("GET",))
def vread(
    request: HttpRequest, resource_type: str, resource_id: str, version_id: str
) -> HttpResponse:
    """<Type>/<id>/_history/<version>: one version of a resource."""
    user, t, patient, versions = _versions(request, resource_type, resource_id)
    found = [v for v in versions if v["meta"]["versionId"] == version_id]
    if not found:
        raise FhirError(
            404, f"{t.name}/{resource_id} has no version {version_id[:20]!r}."
        )
    _audit(user, t, [(patient, found[0])], "_history")
    return fhir_json(found[0], ETag=_etag(found[0]))


@fhir_view(("GET",))
def history(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    """<Type>/<id>/_history: every version, newest first, as a history Bundle."""
    user, t, patient, versions = _versions(request, resource_type, resource_id)
    unknown_params = sorted({n for n, _ in _query(request)} - {"_format"})
    if unknown_params and not _lenient(request):
        raise FhirError(
            400,
            f"_history does not support: {', '.join(unknown_params)}.",
            code="not-supported",
        )
    _audit(user, t, [(patient, v) for v in versions[-1:]], "_history")
    url = f"{_base(request)}/{t.name}/{resource_id}"
    entries = []
    for n, version in reversed(list(enumerate(versions))):
        entry: Resource = {
            "fullUrl": url,
            "resource": version,
            "request": {
                "method": "POST" if n == 0 else "PUT",
                "url": t.name if n == 0 else f"{t.name}/{resource_id}",
            },
            "response": {
                "status": "201 Created" if n == 0 else "200 OK",
                "etag": _etag(version),
            },
        }
        if "lastUpdated" in version["meta"]:
            entry["response"]["lastModified"] = version["meta"]["lastUpdated"]
        entries.append(entry)
    return fhir_json(
        {
            "resourceType": "Bundle",
            "type": "history",
            "total": len(entries),
            "link": [{"relation": "self", "url": f"{url}/_history"}],
            "entry": entries,
        }
    )


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
            rows.extend(source.all())
        _audit(user, target, rows, f"_include={value}")
        for _, r in rows:
            seen.add((target_name, str(r["id"])))
            out.append(r)
    return out


def _revincluded(
    request: HttpRequest,
    user: User,
    t: ResourceType,
    params: Params,
    found: list[tuple[Patient | None, Resource]],
) -> list[Resource]:
    """The resources `_revinclude=<Type>:<param>` asks for: those of <Type> whose
    <param> refers to a matched resource, read through <Type>'s own search (its
    capability check and audit apply). At most REVINCLUDE_LIMIT per pair; past it
    the Bundle says so in an OperationOutcome entry."""
    out: list[Resource] = []
    ids = [str(r["id"]) for _, r in found]
    for name, value in params:
        if name != "_revinclude":
            continue
        source_name, _, param = value.partition(":")
        pairs = _REVINCLUDES.get(t.name, {})
        source_type = RESOURCE_TYPES.get(source_name)
        if source_type is None or param not in pairs.get(source_name, ()):
            known = sorted(f"{s}:{p}" for s, ps in pairs.items() for p in ps)
            raise FhirError(
                400,
                f"_revinclude={value[:60]} is not supported on {t.name}"
                + (f"; use one of {', '.join(known)}." if known else "."),
                code="not-supported",
            )
        if not ids:
            continue
        authorise(user, source_type, token_scopes(request))
        wanted = ",".join(f"{t.name}/{i}" for i in ids)
        rows: list[tuple[Patient | None, Resource]] = []
        for source in source_type.search(user, [(param, wanted)]):
            rows.extend(
                (p, r)
                for _, _, p, r in source.after(
                    cursors.START, REVINCLUDE_LIMIT + 1 - len(rows)
                )
            )
            if len(rows) > REVINCLUDE_LIMIT:
                break
        truncated = len(rows) > REVINCLUDE_LIMIT
        rows = rows[:REVINCLUDE_LIMIT]
        _audit(user, source_type, rows, f"_revinclude={value}")
        out.extend(r for _, r in rows)
        if truncated:
            out.append(
                operation_outcome(
                    [
                        (
                            "warning",
                            "too-costly",
                            f"_revinclude={value}: only the first {REVINCLUDE_LIMIT}"
                            f" are included; search {source_name} by {param} for"
                            " the rest.",
                        )
                    ]
                )
            )
    return out


def _entry(request: HttpRequest, r: Resource, mode: str) -> Resource:
    if r["resourceType"] == "OperationOutcome":
        return {"resource": r, "search": {"mode": "outcome"}}
    return {
        "fullUrl": f"{_base(request)}/{r['resourceType']}/{r['id']}",
        "resource": r,
        "search": {"mode": mode},
    }


def _search_link(request: HttpRequest, t: ResourceType, params: Params) -> str:
    return f"{_base(request)}/{t.name}?{urlencode(params)}"


def _cursor_link(request: HttpRequest, at: cursors.Cursor) -> str:
    return f"{_base(request)}/{at.resource_type}?{urlencode({'_cursor': cursors.encode(at)})}"


def _search_params(
    request: HttpRequest, t: ResourceType, params: Params
) -> tuple[Params, int, cursors.Cursor | None]:
    """The search's own parameters, the page size and the cursor, if any.

    A cursor carries its search; the request may repeat the same parameters (a
    client POSTing its search again with the cursor) but not change them."""
    if any(n == "_offset" for n, _ in params):
        raise FhirError(
            400,
            "_offset: this server pages with cursors; follow the Bundle's next link.",
            code="not-supported",
        )
    raw = [v for n, v in params if n == "_cursor"]
    count_raw = next((v for n, v in params if n == "_count"), None)
    own = [(n, v) for n, v in params if n not in _PAGING_PARAMS]
    if not raw:
        return own, parse_count(count_raw), None
    if len(raw) > 1:
        raise FhirError(400, "_cursor: one cursor at a time.")
    at = cursors.decode(raw[0], t.name)
    if own and sorted(own) != sorted(at.params):
        raise FhirError(
            400,
            "_cursor: the page link belongs to another search; send it alone or"
            " with the same search parameters.",
        )
    count = parse_count(count_raw) if count_raw is not None else at.count
    return at.params, count, at


def _previous_start(
    sources: list[Source], position: cursors.Position, count: int
) -> cursors.Position | None:
    """Where the page before the one at `position` starts: `count` resources back,
    across sources if need be; the first page when fewer than `count` are before
    it; None when none are (this page is the first)."""
    back: list[tuple[int, cursors.Key, int]] = []
    for index in range(position.source, -1, -1):
        end = position if index == position.source else None
        got = sources[index].before(end, count - len(back))
        back[:0] = [(index, key, j) for key, j in got]
        if len(back) >= count:
            index, key, j = back[-count]
            return cursors.Position(index, key, j)
    return cursors.START if back else None


@fhir_view(("GET", "POST"))
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    if (
        request.method == "POST"
        and request.content_type in ("application/fhir+json", "application/json")
        and not request.path.endswith("/_search")
    ):
        # POST /fhir/<Type> with a resource: a create (fhirimp13f, transaction.py).
        from neuroclinic.interop.server.transaction import create

        return create(request, resource_type)
    t = _resource_type(resource_type)
    user = bearer_user(request)
    authorise(user, t, token_scopes(request))
    given = _params(request, t)
    _check_format(request, given)
    identifying = sorted({n for n, _ in given if n in IDENTIFYING_PARAMS})
    if identifying and request.method != "POST":
        raise FhirError(
            400,
            f"Send a search by {', '.join(identifying)} as POST /fhir/{t.name}/_search"
            " (form body), so names and dates of birth stay out of URLs and logs.",
        )
    params, count, at = _search_params(request, t, given)
    identifying = sorted({n for n, _ in params if n in IDENTIFYING_PARAMS})
    total_mode = next((v for n, v in params if n == "_total"), None)
    if total_mode not in (None, "none", "estimate", "accurate"):
        raise FhirError(400, "_total: none, estimate or accurate.")
    sources = t.search(user, [(n, v) for n, v in params if n != "_total"])
    position = at.position if at is not None else cursors.START
    if position.source >= len(sources):
        raise FhirError(400, "_cursor: not a position in this search.")
    # One resource more than the page, to know whether there is a next page.
    found: list[tuple[int, cursors.Key, int, Patient | None, Resource]] = []
    for index in range(position.source, len(sources)):
        start = position if index == position.source else cursors.START
        for key, j, patient, resource in sources[index].after(
            start, count + 1 - len(found)
        ):
            found.append((index, key, j, patient, resource))
        if len(found) > count:
            break
    page = found[:count]
    matched = [(patient, resource) for _, _, _, patient, resource in page]
    _audit(user, t, matched, urlencode(params))
    included = _included(request, user, t, params, matched)
    included += _revincluded(request, user, t, params, matched)

    def link(relation: str, where: cursors.Position) -> dict[str, str]:
        cursor = cursors.Cursor(t.name, params, count, where)
        return {"relation": relation, "url": _cursor_link(request, cursor)}

    if at is None and not identifying:
        self_link = {
            "relation": "self",
            "url": _search_link(request, t, [*params, ("_count", str(count))]),
        }
    else:
        self_link = link("self", position)
    links = [self_link]
    if at is not None:
        links.append(link("first", cursors.START))
    if at is not None and position != cursors.START:
        previous = _previous_start(sources, position, count)
        if previous is not None:
            links.append(link("previous", previous))
    if len(found) > count:
        index, key, j, _, _ = page[-1]
        links.append(link("next", cursors.Position(index, key, j + 1)))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    # The total costs a count of the whole result: given on the first page (or
    # whenever asked for with _total=accurate), not on every page.
    if total_mode == "accurate" or (at is None and total_mode != "none"):
        bundle["total"] = sum(s.count() for s in sources)
    bundle["link"] = links
    bundle["entry"] = [_entry(request, r, "match") for _, r in matched] + [
        _entry(request, r, "include") for r in included
    ]
    if not bundle["entry"]:
        del bundle["entry"]
    return fhir_json(bundle)


def _wants_json(request: HttpRequest, params: Params) -> bool:
    """FHIR R4 Binary read: JSON (a Binary resource) when the client asks for
    FHIR JSON by Accept or _format, else the content itself."""
    for name, value in params:
        if name == "_format":
            if value not in _JSON_FORMATS:
                raise FhirError(406, "Binary: _format=json, or no _format for the PDF.")
            return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and PDF not in accept


@fhir_view(("GET",))
def binary(request: HttpRequest, resource_id: str) -> HttpResponse:
    """Binary/<id>: a signed document's PDF, checked and audited as a read of its
    DocumentReference (the same id)."""
    user = bearer_user(request)
    scopes = token_scopes(request)
    if scopes is not None and not may_read(scopes, "Binary"):
        raise FhirError(403, "The token's scopes do not cover Binary.")
    authorise(user, RESOURCE_TYPES["DocumentReference"])
    params = _query(request)
    unknown_params = sorted({n for n, _ in params} - {"_format"})
    if unknown_params and not _lenient(request):
        raise FhirError(
            400,
            f"Binary does not support: {', '.join(unknown_params)}.",
            code="not-supported",
        )
    as_json = _wants_json(request, params)
    patient, document_id, data = document_pdf(user, resource_id)
    actions.record_fhir_read([(patient, resource_id)], resource_type="Binary", by=user)
    if as_json:
        return fhir_json(
            binary_resource(binary_id=document_id, data=data, document_id=document_id)
        )
    response = HttpResponse(data, content_type=PDF)
    response["Content-Disposition"] = f'inline; filename="{document_id}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


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
    # One audit event for the whole answer, listing every resource as Type/id
    # (one event per type cost a chain write each: most of $everything's time).
    shown: list[tuple[Patient | None, str]] = [(patient, f"Patient/{resource['id']}")]
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
            found.extend(source.all())
        shown.extend((p, f"{t.name}/{r['id']}") for p, r in found)
        entries.extend(r for _, r in found)
    actions.record_fhir_read(
        shown, resource_type="$everything", query="$everything", by=user
    )
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


__all__ = [
    "FHIR_JSON",
    "binary",
    "everything",
    "history",
    "metadata",
    "read",
    "search",
    "unknown",
    "vread",
]
