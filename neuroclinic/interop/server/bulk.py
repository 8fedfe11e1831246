"""Bulk Data Access 2.0 (FHIR async pattern): `$export` kick-off, status, files, cancel.

Kick-off answers 202 with Content-Location (the status URL); the status URL answers
202 with X-Progress while the worker runs, then 200 with the manifest; DELETE on it
cancels. Files are NDJSON, readable only by the user who asked, for EXPORT_LIFETIME.
"""

from collections.abc import Iterator
from uuid import UUID

from django.db.models.functions import Substr
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.interop import actions
from neuroclinic.interop.export import PATIENT_TYPES, SYSTEM_TYPES
from neuroclinic.interop.fhir.clinical import fhir_instant, operation_outcome
from neuroclinic.interop.models import BulkExport, BulkExportFile
from neuroclinic.interop.server.http import (
    FHIR_NDJSON,
    FhirError,
    bearer_user,
    fhir_json,
    fhir_view,
    token_scopes,
)
from neuroclinic.interop.server.params import parse_instant
from neuroclinic.interop.server.registry import RESOURCE_TYPES, authorise

_OUTPUT_FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})
_KICKOFF_PARAMS = frozenset({"_outputFormat", "_type", "_since"})


def _exporter(request: HttpRequest) -> User:
    user = bearer_user(request)
    if not user.can(Capability.EXPORT_CHART):
        raise FhirError(403, "Your role may not export patient data.")
    return user


def _readable(user: User, name: str, scopes: list[str] | None) -> bool:
    try:
        authorise(user, RESOURCE_TYPES[name], scopes)
    except FhirError:
        return False
    return True


def _kickoff(request: HttpRequest, level: BulkExport.Level) -> HttpResponse:
    user = _exporter(request)
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise FhirError(400, "Bulk export is asynchronous: send Prefer: respond-async.")
    unknown = sorted(set(request.GET) - _KICKOFF_PARAMS)
    if unknown:
        raise FhirError(
            400,
            f"Unsupported export parameters: {', '.join(unknown)}.",
            code="not-supported",
        )
    output_format = request.GET.get("_outputFormat")
    if output_format is not None and output_format not in _OUTPUT_FORMATS:
        raise FhirError(400, "_outputFormat: only application/fhir+ndjson is written.")
    allowed = SYSTEM_TYPES if level == BulkExport.Level.SYSTEM else PATIENT_TYPES
    types = list(allowed)
    if raw_types := request.GET.get("_type"):
        asked = [t.strip() for t in raw_types.split(",")]
        bad = [t for t in asked if t not in allowed]
        if bad or not all(asked):
            raise FhirError(
                400,
                f"_type: this export can include {', '.join(allowed)};"
                f" not {', '.join(b[:40] for b in bad) or 'an empty type'}.",
            )
        types = [t for t in allowed if t in asked]
        for name in types:  # a type asked for by name must be readable: 403 if not
            authorise(user, RESOURCE_TYPES[name], token_scopes(request))
    else:
        # Without _type: every type the caller may read (signed letters, for one, are
        # for prescribers), as $everything does; the patients themselves are required.
        authorise(user, RESOURCE_TYPES["Patient"], token_scopes(request))
        types = [t for t in types if _readable(user, t, token_scopes(request))]
    since = None
    if raw_since := request.GET.get("_since"):
        since = parse_instant("_since", raw_since)
    export = actions.start_export(
        level=level,
        resource_types=types,
        since=since,
        request_url=request.build_absolute_uri(),
        by=user,
    )
    response = fhir_json(
        operation_outcome([("information", "informational", "Export queued.")]),
        status=202,
    )
    response["Content-Location"] = request.build_absolute_uri(
        f"/fhir/$export-status/{export.uuid}"
    )
    return response


@fhir_view(("GET",))
def system_export(request: HttpRequest) -> HttpResponse:
    return _kickoff(request, BulkExport.Level.SYSTEM)


@fhir_view(("GET",))
def patient_export(request: HttpRequest) -> HttpResponse:
    return _kickoff(request, BulkExport.Level.PATIENT)


@fhir_view(("GET",))
def group_export(request: HttpRequest, group_id: str) -> HttpResponse:
    """The one Group is the clinic itself (its organization's UUID): all its patients."""
    user = _exporter(request)
    assert user.organization is not None  # EXPORT_CHART is a clinic staff grant
    if group_id != str(user.organization.uuid):
        raise FhirError(404, "No such Group.")
    return _kickoff(request, BulkExport.Level.GROUP)


def _own_export(user: User, raw: str) -> BulkExport:
    try:
        export_uuid = UUID(raw)
    except ValueError:
        raise FhirError(404, "No such export.") from None
    export = BulkExport.objects.filter(uuid=export_uuid, requested_by=user).first()
    if export is None:
        raise FhirError(404, "No such export.")
    return export


def _expired(export: BulkExport) -> bool:
    return export.expires_at is not None and export.expires_at < timezone.now()


@fhir_view(("GET", "DELETE"))
def export_status(request: HttpRequest, export_id: str) -> HttpResponse:
    user = _exporter(request)
    export = _own_export(user, export_id)
    if request.method == "DELETE":
        try:
            actions.cancel_export(export, by=user)
        except actions.InteropError as exc:
            raise FhirError(404, exc.message) from None
        return fhir_json(
            operation_outcome([("information", "informational", "Export cancelled.")]),
            status=202,
        )
    if export.status == BulkExport.Status.CANCELLED or _expired(export):
        raise FhirError(404, "This export was cancelled or has expired.")
    if export.status == BulkExport.Status.FAILED:
        raise FhirError(500, "The export failed; start a new one.")
    if export.status != BulkExport.Status.DONE:
        response = HttpResponse(status=202)
        response["X-Progress"] = export.progress or export.status
        response["Retry-After"] = "5"
        return response
    files = list(
        export.files.only("uuid", "resource_type", "count").order_by("sequence")
    )
    manifest = {
        "transactionTime": fhir_instant(export.requested_at),
        "request": export.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": f.resource_type,
                "url": request.build_absolute_uri(f"/fhir/$export-file/{f.uuid}"),
                "count": f.count,
            }
            for f in files
        ],
        "error": [],
    }
    assert export.expires_at is not None
    response = fhir_json(manifest)
    response["Content-Type"] = "application/json"
    response["Expires"] = export.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response


@fhir_view(("GET",))
def export_file(request: HttpRequest, file_id: str) -> StreamingHttpResponse:
    user = _exporter(request)
    try:
        file_uuid = UUID(file_id)
    except ValueError:
        raise FhirError(404, "No such file.") from None
    file = (
        BulkExportFile.objects.select_related("export__organization")
        .defer("content")
        .filter(uuid=file_uuid, export__requested_by=user)
        .first()
    )
    if file is None or _expired(file.export):
        raise FhirError(404, "No such file, or it has expired.")
    actions.record_export_download(file, by=user)
    return StreamingHttpResponse(file_chunks(file.pk), content_type=FHIR_NDJSON)


# Characters read from the database per chunk of a download (about 1 MB of NDJSON).
CHUNK_CHARACTERS = 1 << 20


def file_chunks(file_pk: int) -> Iterator[bytes]:
    """An export file's NDJSON, a slice at a time (SUBSTR in the database), so
    neither the server nor the database driver holds the whole file (up to
    FILE_RESOURCES resources) in memory. A file deleted while it is being read
    (expired) ends the download early rather than failing it."""
    start = 1  # SQL strings count from 1
    while True:
        size = CHUNK_CHARACTERS
        part = (
            BulkExportFile.objects.filter(pk=file_pk)
            .annotate(part=Substr("content", start, size))
            .values_list("part", flat=True)
            .first()
        )
        if not part:
            return
        yield part.encode()
        if len(part) < size:
            return
        start += size
