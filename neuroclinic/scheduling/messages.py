"""What a reminder says: the text, the day's instructions, the signed link and the .ics.

Subjects and SMS carry the clinic's name, the time and a link, never the visit's
type, a diagnosis or a treatment (docs/security.md). The email body adds the
instructions for an infusion day: nothing by mouth for the protocol's hours
(K18 [S], K22 [P]; the label asks that fasting rules be followed, K11 [V]), an
adult to take the patient home (K11 [V]), and no driving until the next day after
sleep (K20 [V]; clinics commonly say 24 hours, K22 [P]).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.core import signing
from django.urls import reverse

from neuroclinic.scheduling.models import Appointment

LINK_SALT = "neuroclinic.scheduling.visit-link"
DEFAULT_NPO_SOLIDS_HOURS = 6
DEFAULT_NPO_CLEAR_LIQUIDS_HOURS = 2


def link_token(appointment: Appointment) -> str:
    return signing.dumps(str(appointment.uuid), salt=LINK_SALT, compress=True)


def appointment_uuid_from(token: str, *, max_age_days: int = 30) -> str | None:
    try:
        value = signing.loads(token, salt=LINK_SALT, max_age=max_age_days * 86400)
    except signing.BadSignature:
        return None
    return value if isinstance(value, str) else None


def visit_url(appointment: Appointment) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "visit_link", kwargs={"token": link_token(appointment)}
    )


def local_time(appointment: Appointment) -> datetime:
    return appointment.starts_at.astimezone(ZoneInfo(appointment.location.time_zone))


def instructions(appointment: Appointment) -> list[str]:
    """The day's instructions for an infusion visit (none for other visits)."""
    if not appointment.appointment_type.is_infusion:
        return []
    protocol = appointment.plan.induction_protocol if appointment.plan else None
    solids = protocol.npo_solids_hours if protocol else DEFAULT_NPO_SOLIDS_HOURS
    liquids = (
        protocol.npo_clear_liquids_hours
        if protocol
        else DEFAULT_NPO_CLEAR_LIQUIDS_HOURS
    )
    return [
        f"Nothing to eat for {solids} hours before your visit, and only clear liquids "
        f"(water, clear juice, black coffee or tea) until {liquids} hours before.",
        "Bring an adult who will take you home: you may not leave alone.",
        "Do not drive, cycle or operate machinery until the next day, after a night's sleep.",
    ]


def subject(appointment: Appointment) -> str:
    when = local_time(appointment)
    return f"{appointment.organization.name}: your visit on {when:%a %d %b at %H:%M}"


def sms_text(appointment: Appointment) -> str:
    when = local_time(appointment)
    return (
        f"{appointment.organization.name}: reminder of your visit on {when:%a %d %b at %H:%M}. "
        f"Confirm or ask to change it: {visit_url(appointment)}"
    )


def email_body(appointment: Appointment) -> str:
    when = local_time(appointment)
    location = appointment.location
    lines = [
        f"This is a reminder of your visit at {appointment.organization.name} on "
        f"{when:%A %d %B at %H:%M}.",
        "",
        f"Where: {location.name}, {location.address_line1}, {location.city}.",
        "",
    ]
    steps = instructions(appointment)
    if steps:
        lines += ["Before you come:", *[f"- {s}" for s in steps], ""]
    lines += [
        f"Please confirm, or ask us to move the visit: {visit_url(appointment)}",
        "",
        f"Questions? Call us on {location.phone or appointment.organization.phone}.",
        "The calendar file attached adds the visit to your phone's calendar.",
    ]
    return "\n".join(lines)


def ics(appointment: Appointment) -> bytes:
    """An iCalendar event: the time, the place, the clinic; no visit type or clinical word."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Neuroclinic//Visit reminder//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"{appointment.uuid}@neuroclinic")
    event.add("dtstamp", appointment.created_at)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", f"Visit at {appointment.organization.name}")
    location = appointment.location
    event.add("location", f"{location.name}, {location.address_line1}, {location.city}")
    event.add("description", "\n".join(instructions(appointment)))
    calendar.add_component(event)
    content: bytes = calendar.to_ical()
    return content
