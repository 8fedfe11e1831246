"""Free start times for one visit type at a location over a span of days (reads only).

The same checks a booking makes (rules.conflicts through availability.choose_resources),
so a time listed here is bookable unless someone books it first; the booking checks
again under its locks.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from neuroclinic.clinics.models import Location
from neuroclinic.scheduling import availability
from neuroclinic.scheduling.models import AppointmentType


def free_starts(
    appointment_type: AppointmentType,
    *,
    location: Location,
    patient_id: int,
    first: date,
    last: date,
    now: datetime,
    limit: int = 12,
    per_day: int = 3,
) -> list[datetime]:
    """Up to `limit` free start times (UTC), at most `per_day` a day, day by day."""
    if last < first:
        return []
    tz = ZoneInfo(location.time_zone)
    first_at = datetime.combine(first, time(0), tzinfo=tz)
    end_at = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    calendar = availability.calendar_for(
        location, first_at, end_at, patient_id=patient_id
    )
    resources = availability.resources_at(location)
    step = timedelta(
        minutes=availability.settings_for(location.organization_id).slot_minutes or 30
    )
    duration = timedelta(minutes=appointment_type.duration_minutes)
    found: list[datetime] = []
    for day in availability.local_days(
        location, first_at, end_at - timedelta(seconds=1)
    ):
        today: list[datetime] = []
        for span in availability.opening_intervals(location, [day], resources.hours):
            at = span.start
            while at + duration <= span.end and len(today) < per_day:
                choice = availability.choose_resources(
                    appointment_type,
                    patient_id=patient_id,
                    starts_at=at,
                    calendar=calendar,
                    resources=resources,
                    now=now,
                )
                if isinstance(choice, availability.Choice):
                    today.append(at)
                at += step
        found += today
        if len(found) >= limit:
            return found[:limit]
    return found
