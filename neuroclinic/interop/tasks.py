"""Interop's background work: running Bulk Data exports, and expiring their files."""

from uuid import UUID

from django.tasks import task

from neuroclinic.interop import actions
from neuroclinic.interop.export import run_export


@task(queue_name="bulk")
def run_bulk_export(export_uuid: str) -> dict[str, int]:
    """Write one export's NDJSON files (nothing to do if it is done or cancelled)."""
    return run_export(UUID(export_uuid))


@task(queue_name="bulk")
def expire_bulk_exports() -> int:
    """Delete export files past their expiry (hourly; PERIODIC_JOBS)."""
    return actions.expire_exports()
