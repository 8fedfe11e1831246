"""Running a Bulk Data export: each resource type's search, every page, as NDJSON files.

The same searches the server answers (`server.registry`), run as the user who asked,
so an export shows exactly what that user could read. Called by the task
`interop.tasks.run_bulk_export`; safe to run twice (`actions.claim_export`).
"""

from uuid import UUID

from neuroclinic.interop import actions
from neuroclinic.interop.models import FILE_RESOURCES, BulkExport
from neuroclinic.interop.server.http import dumps
from neuroclinic.interop.server.registry import RESOURCE_TYPES, Params
from neuroclinic.lib.replica import reading_from_replica

# Types a Patient- or Group-level export carries (the patient compartment);
# a system-level export adds the Questionnaires.
PATIENT_TYPES = tuple(t for t, rt in RESOURCE_TYPES.items() if rt.patient_data)
SYSTEM_TYPES = tuple(RESOURCE_TYPES)

_BATCH = 2000


def _line(resource: dict[str, object]) -> str:
    return dumps(resource).decode()


def run_export(export_uuid: UUID, *, batch_size: int = _BATCH) -> dict[str, int]:
    export = actions.claim_export(export_uuid)
    if export is None:
        return {}
    user = export.requested_by
    params: Params = []
    if export.since is not None:
        params.append(("_lastUpdated", f"ge{export.since.isoformat()}"))
    counts: dict[str, int] = {}
    patients: set[int] = set()
    sequence = 0
    # The searches read the replica when there is one (lib/replica.py): files,
    # progress and the audit event are writes, each in its own transaction on
    # the primary.
    with reading_from_replica():
        try:
            for type_name in export.resource_types:
                t = RESOURCE_TYPES[type_name]
                lines: list[str] = []
                counts[type_name] = 0
                for source in t.search(user, params if t.patient_data else []):
                    for batch in source.batches(batch_size):
                        for row in batch:
                            patient = source.patient_of(row)
                            if patient is not None:
                                patients.add(patient.pk)
                        for resource in source.expand(batch):
                            lines.append(_line(resource))
                            if len(lines) >= FILE_RESOURCES:
                                sequence += 1
                                if not actions.write_export_file(
                                    export,
                                    resource_type=type_name,
                                    sequence=sequence,
                                    lines=lines,
                                ):
                                    return counts
                                counts[type_name] += len(lines)
                                lines = []
                if lines:
                    sequence += 1
                    if not actions.write_export_file(
                        export, resource_type=type_name, sequence=sequence, lines=lines
                    ):
                        return counts
                    counts[type_name] += len(lines)
        except Exception as exc:
            # The message names the failure's kind only: it must carry no PHI.
            actions.finish_export(
                export, counts=counts, patients=len(patients), error=type(exc).__name__
            )
            raise
    actions.finish_export(export, counts=counts, patients=len(patients))
    return counts


__all__ = ["PATIENT_TYPES", "SYSTEM_TYPES", "BulkExport", "run_export"]
