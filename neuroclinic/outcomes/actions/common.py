"""What every outcomes action shares: the refusal it raises and the clinic's time zone."""

from neuroclinic.clinics.time_zone import clinic_zone_name


class OutcomesError(Exception):
    """An outcomes action refused; nothing was written. The message is safe to show."""


def clinic_zone(organization_id: int) -> str:
    """The clinic's time zone: its first active location's (UTC without one)."""
    return clinic_zone_name(organization_id) or "UTC"
