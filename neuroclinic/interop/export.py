"""Running a Bulk Data export: each resource type's search, every page, as NDJSON files.

The same searches the server answers (`server.registry`), run as the user who asked,
so an export shows exactly what that user could read. Called by the task
`interop.tasks.run_bulk_export`; safe to run twice (`actions.claim_export`).
"""

from uuid import UUID

from django.core.exceptions import EmptyResultSet
from django.db.models import QuerySet

from neuroclinic.interop import actions
from neuroclinic.interop.models import FILE_RESOURCES, BulkExport
from neuroclinic.interop.server.http import dumps
from neuroclinic.interop.server.registry import (
    RESOURCE_TYPES,
    Params,
    Source,
    row_builder,
    value_tuples,
)
from neuroclinic.lib.replica import reading_from_replica

# Types a Patient- or Group-level export carries (the patient compartment);
# a system-level export adds the Questionnaires.
PATIENT_TYPES = tuple(t for t, rt in RESOURCE_TYPES.items() if rt.patient_data)
SYSTEM_TYPES = tuple(RESOURCE_TYPES)

_BATCH = 2000


def _line(resource: dict[str, object]) -> bytes:
    return dumps(resource)


def _twin_key(source: Source) -> tuple[object, str] | None:
    """What a source's batches read, as (model, SQL in primary-key order); None for
    a source that is not a plain query read as value tuples (never shared)."""
    if not isinstance(source.queryset, QuerySet) or not source.values:
        return None
    try:
        sql = str(source.queryset.order_by("pk").query)
    except EmptyResultSet:
        return None
    return source.queryset.model, sql


class _Files:
    """One resource type's NDJSON files: lines are kept until a file is full."""

    def __init__(self, export: BulkExport, resource_type: str, counter: list[int]):
        self.export = export
        self.resource_type = resource_type
        self.counter = counter  # the export's file sequence, shared by every type
        self.lines: list[bytes] = []
        self.count = 0

    def add(self, resources: list[dict[str, object]]) -> bool:
        return self.add_lines([_line(r) for r in resources])

    def add_lines(self, lines: list[bytes]) -> bool:
        self.lines.extend(lines)
        if len(self.lines) >= FILE_RESOURCES:
            return self.flush(FILE_RESOURCES)
        return True

    def flush(self, at_least: int = 1) -> bool:
        """Write full files (and, with at_least=1, the rest); False if cancelled."""
        while len(self.lines) >= at_least and self.lines:
            part, self.lines = (
                self.lines[:FILE_RESOURCES],
                self.lines[FILE_RESOURCES:],
            )
            self.counter[0] += 1
            if not actions.write_export_file(
                self.export,
                resource_type=self.resource_type,
                sequence=self.counter[0],
                content=b"\n".join(part).decode() + "\n",
                count=len(part),
            ):
                return False
            self.count += len(part)
        return True


def _renders_lines(reader: Source, group: list[tuple[str, Source]]) -> bool:
    """Whether every member of a group renders its lines from value tuples (and
    the tuples carry the patient's key first, for the export's patient count)."""
    return (
        isinstance(reader.queryset, QuerySet)
        and bool(reader.values)
        and reader.values[0].endswith("patient__id")
        and all(member.lines is not None for _, member in group)
    )


def _write_lines(
    reader: Source,
    group: list[tuple[str, Source]],
    files: dict[str, _Files],
    patients: set[int],
    batch_size: int,
) -> bool:
    """A group's rows read once as value tuples, each member's lines rendered from
    them (`server.lines`: no light rows, no resource dicts); False if cancelled."""
    columns = ("pk", *reader.values)
    build = row_builder(reader.values)
    renderers = []
    for member_type, member in group:
        assert member.lines is not None
        renderers.append(
            (files[member_type], member.lines(columns, build, member.expand))
        )
    qs = reader.queryset.order_by("pk")
    for batch in value_tuples(qs, reader.values, batch_size):
        patients.update(row[1] for row in batch if row[1] is not None)
        for out, renderer in renderers:
            if not out.add_lines(renderer.render(batch)):
                return False
    return True


def run_export(export_uuid: UUID, *, batch_size: int = _BATCH) -> dict[str, int]:
    export = actions.claim_export(export_uuid)
    if export is None:
        return {}
    user = export.requested_by
    params: Params = []
    if export.since is not None:
        params.append(("_lastUpdated", f"ge{export.since.isoformat()}"))
    files: dict[str, _Files] = {}
    counter = [0]
    patients: set[int] = set()

    def counts() -> dict[str, int]:
        return {name: f.count for name, f in files.items()}

    # The searches read the replica when there is one (lib/replica.py): files,
    # progress and the audit event are writes, each in its own transaction on
    # the primary.
    with reading_from_replica():
        try:
            plans: list[tuple[str, Source]] = []
            for type_name in export.resource_types:
                t = RESOURCE_TYPES[type_name]
                files[type_name] = _Files(export, type_name, counter)
                for source in t.search(user, params if t.patient_data else []):
                    plans.append((type_name, source))
            # Sources of different types that read the same rows (the responses are
            # both QuestionnaireResponses and score Observations) are read once, with
            # the widest set of columns, and each batch rendered as both.
            done: set[int] = set()
            for at, (type_name, source) in enumerate(plans):
                if at in done:
                    continue
                key = _twin_key(source)
                group = [(type_name, source)]
                for later in range(at + 1, len(plans)):
                    other_type, other = plans[later]
                    if (
                        key is not None
                        and other_type != type_name
                        and _twin_key(other) == key
                    ):
                        group.append((other_type, other))
                        done.add(later)
                reader = max(group, key=lambda g: len(g[1].values))[1]
                assert all(set(s.values) <= set(reader.values) for _, s in group)
                if _renders_lines(reader, group):
                    if not _write_lines(reader, group, files, patients, batch_size):
                        return counts()
                else:
                    for batch in reader.batches(batch_size):
                        for row in batch:
                            patient = reader.patient_of(row)
                            if patient is not None:
                                patients.add(patient.pk)
                        for member_type, member in group:
                            if not files[member_type].add(member.expand(batch)):
                                return counts()
                last_of_type = not any(t == type_name for t, _ in plans[at + 1 :])
                if last_of_type and not files[type_name].flush():
                    return counts()
            for f in files.values():  # a type whose last rows came with a twin
                if not f.flush():
                    return counts()
        except Exception as exc:
            # The message names the failure's kind only: it must carry no PHI.
            actions.finish_export(
                export,
                counts=counts(),
                patients=len(patients),
                error=type(exc).__name__,
            )
            raise
    actions.finish_export(export, counts=counts(), patients=len(patients))
    return counts()


__all__ = ["PATIENT_TYPES", "SYSTEM_TYPES", "BulkExport", "run_export"]
