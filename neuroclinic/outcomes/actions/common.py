"""What every outcomes action shares: the refusal it raises and the clinic's time zone."""

from neuroclinic.clinics.models import Location


class OutcomesError(Exception):
    """An outcomes action refused; nothing was written. The message is safe to show."""


def clinic_zone(organization_id: int) -> str:
    """The clinic's time zone: its first active location's (UTC without one)."""
    return (
        Location.objects.filter(organization_id=organization_id, is_active=True)
        .order_by("id")
        .values_list("time_zone", flat=True)
        .first()
    ) or "UTC"
