"""Interop's writes: the audit trail of FHIR reads (and, below, exports and imports).

Each function runs in one transaction and records audit events; callers check
access first (`neuroclinic.interop.server.registry.authorise`).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.interop.models import EXPORT_LIFETIME, BulkExport, BulkExportFile
from neuroclinic.patients.models import Patient


@transaction.atomic
def record_fhir_read(
    found: Iterable[tuple[Patient | None, str]],
    *,
    resource_type: str,
    query: str = "",
    by: User,
) -> None:
    """Who saw which patients' records through FHIR.

    An answer about one patient (a read, a search by patient) is a `patients.read_api`
    event on that patient listing the resource ids. An answer about several (a search
    across patients) is one `patients.searched` event with the query and the patients
    shown, as the staff search records it.
    """
    by_patient: dict[int, tuple[Patient, list[str]]] = {}
    for patient, resource_id in found:
        if patient is None:
            continue
        by_patient.setdefault(patient.pk, (patient, []))[1].append(resource_id)
    if len(by_patient) > 1:
        record(
            AuditEvent.Action.PATIENTS_SEARCHED,
            actor=by,
            query=query,
            via="fhir",
            resource_type=resource_type,
            results=[str(p.uuid) for p, _ in by_patient.values()],
            ids=[i for _, ids in by_patient.values() for i in ids],
        )
        return
    for patient, ids in by_patient.values():
        record(
            AuditEvent.Action.PATIENT_READ_API,
            actor=by,
            patient=patient,
            subject=patient,
            via="fhir",
            resource_type=resource_type,
            ids=ids,
        )


# Bulk export ----------------------------------------------------------------------


class InteropError(Exception):
    """A refused interop action; nothing was written."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@transaction.atomic
def start_export(
    *,
    level: BulkExport.Level,
    resource_types: list[str],
    since: datetime | None,
    request_url: str,
    by: User,
) -> BulkExport:
    """Queue a Bulk Data export of the user's clinic; the worker runs it after commit."""
    if by.organization_id is None:
        raise InteropError("Only a member of a clinic's staff can export.")
    export = BulkExport.objects.create(
        organization_id=by.organization_id,
        requested_by=by,
        request_url=request_url[:500],
        level=level,
        resource_types=resource_types,
        since=since,
        requested_at=timezone.now(),
    )
    record(
        AuditEvent.Action.CHART_EXPORTED,
        actor=by,
        subject=export,
        organization=export.organization,
        via="fhir",
        stage="requested",
        level=level,
        resource_types=resource_types,
        since=since.isoformat() if since else None,
    )
    from neuroclinic.interop.tasks import run_bulk_export

    transaction.on_commit(lambda: run_bulk_export.enqueue(str(export.uuid)))
    return export


@transaction.atomic
def cancel_export(export: BulkExport, *, by: User) -> BulkExport:
    export = BulkExport.objects.select_for_update().get(pk=export.pk)
    if export.status in (BulkExport.Status.CANCELLED, BulkExport.Status.FAILED):
        raise InteropError("This export has already ended.")
    export.files.all().delete()
    export.status = BulkExport.Status.CANCELLED
    export.finished_at = timezone.now()
    export.expires_at = export.finished_at
    export.save(update_fields=["status", "finished_at", "expires_at"])
    record(
        AuditEvent.Action.CHART_EXPORTED,
        actor=by,
        subject=export,
        organization=export.organization,
        via="fhir",
        stage="cancelled",
    )
    return export


# A worker that has not finished an export in this long is taken to have died.
STALE_RUN = timedelta(minutes=30)


@transaction.atomic
def claim_export(export_uuid: UUID) -> BulkExport | None:
    """Mark a queued (or abandoned) export running and clear any half-written files.

    None when there is nothing to do: finished, cancelled, or running elsewhere.
    """
    export = BulkExport.objects.select_for_update().filter(uuid=export_uuid).first()
    if export is None:
        return None
    now = timezone.now()
    abandoned = (
        export.status == BulkExport.Status.RUNNING
        and export.started_at is not None
        and export.started_at < now - STALE_RUN
    )
    if export.status != BulkExport.Status.QUEUED and not abandoned:
        return None
    export.files.all().delete()
    export.status = BulkExport.Status.RUNNING
    export.started_at = now
    export.progress = "started"
    export.save(update_fields=["status", "started_at", "progress"])
    return export


@transaction.atomic
def write_export_file(
    export: BulkExport, *, resource_type: str, sequence: int, content: str, count: int
) -> bool:
    """One NDJSON file (`count` lines, each ending in a newline); False (and nothing
    written) when the export was cancelled."""
    locked = BulkExport.objects.select_for_update().get(pk=export.pk)
    if locked.status != BulkExport.Status.RUNNING:
        return False
    BulkExportFile.objects.create(
        export=locked,
        resource_type=resource_type,
        sequence=sequence,
        count=count,
        content=content,
    )
    locked.progress = f"{resource_type}: {sequence} file(s) written"
    locked.save(update_fields=["progress"])
    return True


@transaction.atomic
def finish_export(
    export: BulkExport, *, counts: dict[str, int], patients: int, error: str = ""
) -> None:
    locked = BulkExport.objects.select_for_update().get(pk=export.pk)
    if locked.status != BulkExport.Status.RUNNING:
        return
    locked.status = BulkExport.Status.FAILED if error else BulkExport.Status.DONE
    locked.finished_at = timezone.now()
    locked.expires_at = locked.finished_at + EXPORT_LIFETIME
    locked.error = error[:300]
    locked.progress = "failed" if error else "done"
    locked.save(
        update_fields=["status", "finished_at", "expires_at", "error", "progress"]
    )
    record(
        AuditEvent.Action.CHART_EXPORTED,
        actor=locked.requested_by,
        subject=locked,
        organization=locked.organization,
        via="fhir",
        stage="failed" if error else "completed",
        counts=counts,
        patients=patients,
    )


@transaction.atomic
def record_export_download(file: BulkExportFile, *, by: User) -> None:
    record(
        AuditEvent.Action.CHART_EXPORTED,
        actor=by,
        subject=file.export,
        organization=file.export.organization,
        via="fhir",
        stage="downloaded",
        resource_type=file.resource_type,
        count=file.count,
    )


@transaction.atomic
def expire_exports(*, now: datetime | None = None) -> int:
    """Delete the files of exports past their expiry; the export rows stay as a record."""
    moment = now or timezone.now()
    deleted, _ = BulkExportFile.objects.filter(export__expires_at__lt=moment).delete()
    return deleted
