"""Staff calendar feeds (issue 9 item 9): a per-person secret address serving iCalendar.

The address carries a random 256-bit token; only its SHA-256 is stored (as the board
display links and API tokens do), so the address cannot be rebuilt from the database
and revoking is a row update. A person has at most one active feed: a new one revokes
the old. Creating and revoking are audited (`scheduling.configured`, kind
`calendar_feed`); every read of a feed names its visits in the audit log
(`scheduling.calendar_viewed`, via `calendar_feed`), since it lists patients' initials.

The feed holds each visit's time, type, place and room, and the patient's initials:
no names, record numbers, diagnoses or notes.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

import icalendar
from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment, StaffCalendarFeed

# What a feed covers: the last week (for looking back) and the next three months.
PAST_DAYS = 7
AHEAD_DAYS = 92
# A visit a calendar shows: everything but the cancelled ones.
SHOWN = (
    Appointment.Status.BOOKED,
    Appointment.Status.CONFIRMED,
    Appointment.Status.MOVE_REQUESTED,
    Appointment.Status.MOVED,
    Appointment.Status.CHECKED_IN,
)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def active_feed(user: User) -> StaffCalendarFeed | None:
    return StaffCalendarFeed.objects.filter(user=user, revoked_at=None).first()


def _revoke(feed: StaffCalendarFeed, *, by: User, now: datetime) -> None:
    feed.revoked_at = now
    feed.revoked_by = by
    feed.save(update_fields=["revoked_at", "revoked_by"])
    record(
        AuditEvent.Action.SCHEDULING_CONFIGURED,
        actor=by,
        organization=feed.organization,
        subject=feed,
        kind="calendar_feed",
        change="revoked",
        feed_for=feed.user.username,
    )


def create_feed(user: User, *, by: User) -> tuple[StaffCalendarFeed, str]:
    """A new secret address for `user` (the raw token is returned once); the old one stops."""
    if by.pk != user.pk:
        raise SchedulingError("A calendar address is made by its owner.", field="user")
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        for old in StaffCalendarFeed.objects.select_for_update().filter(
            user=user, revoked_at=None
        ):
            _revoke(old, by=by, now=now)
        feed = StaffCalendarFeed.objects.create(
            organization_id=user.organization_pk,
            user=user,
            token_sha256=token_hash(raw),
            created_by=by,
        )
        record(
            AuditEvent.Action.SCHEDULING_CONFIGURED,
            actor=by,
            organization=feed.organization,
            subject=feed,
            kind="calendar_feed",
            change="created",
            feed_for=user.username,
        )
    return feed, raw


def revoke_feed(feed: StaffCalendarFeed, *, by: User) -> StaffCalendarFeed:
    """Stop an address: its owner, or a clinic administrator of the same clinic."""
    with transaction.atomic():
        feed = (
            StaffCalendarFeed.objects.select_for_update()
            .select_related("user", "organization")
            .get(pk=feed.pk)
        )
        if feed.organization_id != by.organization_pk or (
            feed.user_id != by.pk and not by.can(Capability.MANAGE_USERS)
        ):
            raise SchedulingError("No such calendar address.")
        if feed.revoked_at is not None:
            raise SchedulingError("This calendar address is already revoked.")
        _revoke(feed, by=by, now=timezone.now())
    return feed


def feed_for_token(raw: str) -> tuple[StaffCalendarFeed | None, int]:
    """The active feed a raw token opens, or None with 404 (unknown) or 410 (revoked)."""
    if not raw or len(raw) > 100:
        return None, 404
    feed = (
        StaffCalendarFeed.objects.filter(token_sha256=token_hash(raw))
        .select_related("user", "organization")
        .first()
    )
    if feed is None:
        return None, 404
    if feed.revoked_at is not None or not feed.user.is_active:
        return None, 410
    return feed, 200


def initials(patient: Patient) -> str:
    given = (patient.preferred_name or patient.given_name)[:1]
    return f"{given}{patient.family_name[:1]}".upper()


def feed_visits(feed: StaffCalendarFeed, *, now: datetime) -> list[Appointment]:
    return list(
        Appointment.objects.filter(
            staff=feed.user,
            organization_id=feed.organization_id,
            status__in=SHOWN,
            starts_at__gte=now - timedelta(days=PAST_DAYS),
            starts_at__lt=now + timedelta(days=AHEAD_DAYS),
        )
        .select_related("appointment_type", "location", "room", "patient")
        .order_by("starts_at", "id")
    )


def read_feed(feed: StaffCalendarFeed, *, now: datetime | None = None) -> bytes:
    """The feed as iCalendar; the read is audited (it names visits by initials)."""
    now = now or timezone.now()
    visits = feed_visits(feed, now=now)
    record(
        AuditEvent.Action.CALENDAR_VIEWED,
        actor=feed.user,
        organization=feed.organization,
        via="calendar_feed",
        feed=str(feed.uuid),
        patients=sorted({str(a.patient.uuid) for a in visits}),
    )
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Neuroclinic//Staff calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{feed.organization.name}: my visits")
    for visit in visits:
        event = icalendar.Event()
        event.add("uid", f"{visit.uuid}@neuroclinic")
        event.add("dtstamp", now)
        event.add("dtstart", visit.starts_at)
        event.add("dtend", visit.ends_at)
        event.add(
            "summary", f"{visit.appointment_type.name} · {initials(visit.patient)}"
        )
        place = visit.location.name
        if visit.room is not None:
            place = f"{place}, {visit.room.name}"
        event.add("location", place)
        event.add(
            "status",
            "TENTATIVE"
            if visit.status == Appointment.Status.MOVE_REQUESTED
            else "CONFIRMED",
        )
        calendar.add_component(event)
    content: bytes = calendar.to_ical()
    return content
