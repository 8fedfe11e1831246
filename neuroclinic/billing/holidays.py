"""The clinic's closed days, for business-day deadlines (good-faith estimates, rule B6).

A weekday counts as a holiday when every location of the organization is closed all of it:
a whole-location closure (no room, no device) in the scheduling app, read in each location's
own time zone. One location open keeps the day a business day for the clinic.
"""

import zoneinfo
from datetime import date, datetime, time, timedelta

from neuroclinic.clinics.models import Location
from neuroclinic.scheduling.models import Closure


def closed_days(organization_id: int, start: date, end: date) -> frozenset[date]:
    """Days from `start` to `end` (inclusive) on which every location is closed all day."""
    locations = list(
        Location.objects.filter(organization_id=organization_id, is_active=True)
    )
    if not locations or end < start:
        return frozenset()
    closed_by_location: dict[int, set[date]] = {loc.pk: set() for loc in locations}
    zones = {loc.pk: zoneinfo.ZoneInfo(loc.time_zone) for loc in locations}
    window_start = datetime.combine(start, time.min, tzinfo=zoneinfo.ZoneInfo("UTC"))
    window_end = datetime.combine(
        end + timedelta(days=2), time.min, tzinfo=zoneinfo.ZoneInfo("UTC")
    )
    for closure in Closure.objects.filter(
        location__organization_id=organization_id,
        room__isnull=True,
        device__isnull=True,
        starts_at__lt=window_end,
        ends_at__gt=window_start - timedelta(days=2),
    ):
        zone = zones[closure.location_id]
        first = closure.starts_at.astimezone(zone)
        last = closure.ends_at.astimezone(zone)
        day = (
            first.date()
            if first.timetz().replace(tzinfo=None) == time.min
            else (first.date() + timedelta(days=1))
        )
        while datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone) <= last:
            closed_by_location[closure.location_id].add(day)
            day += timedelta(days=1)
    every = set.intersection(*closed_by_location.values())
    return frozenset(d for d in every if start <= d <= end)
