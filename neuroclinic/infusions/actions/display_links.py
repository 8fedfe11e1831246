"""Board display links: create (the raw token is returned once) and revoke, audited."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import BoardDisplayLink


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_display_link(
    location: Location, *, label: str, by: User
) -> tuple[BoardDisplayLink, str]:
    label = label.strip()
    if not label:
        raise InfusionError(
            "Name the display, for example Nurse station wall.", field="label"
        )
    if len(label) > 100:
        raise InfusionError(
            "The display's name is at most 100 characters.", field="label"
        )
    if location.organization_id != by.organization_pk:
        raise InfusionError("No such location.")
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = BoardDisplayLink.objects.create(
            organization_id=location.organization_id,
            location=location,
            label=label,
            token_sha256=token_hash(raw),
            created_by=by,
        )
        # A wall display is a device of the clinic: the same audit action.
        record(
            AuditEvent.Action.DEVICE_SAVED,
            actor=by,
            subject=link,
            kind="board_display_link",
            change="created",
            label=label,
            location=location.name,
        )
    return link, raw


def revoke_display_link(link: BoardDisplayLink, *, by: User) -> BoardDisplayLink:
    with transaction.atomic():
        link = BoardDisplayLink.objects.select_for_update().get(pk=link.pk)
        if link.organization_id != by.organization_pk:
            raise InfusionError("No such display link.")
        if link.revoked_at is not None:
            raise InfusionError("This display link is already revoked.")
        link.revoked_at = timezone.now()
        link.revoked_by = by
        link.save(update_fields=["revoked_at", "revoked_by"])
        record(
            AuditEvent.Action.DEVICE_SAVED,
            actor=by,
            subject=link,
            kind="board_display_link",
            change="revoked",
            label=link.label,
        )
    return link


def active_link(raw: str) -> BoardDisplayLink | None:
    """The link a raw token opens, or None if unknown or revoked."""
    if not raw or len(raw) > 100:
        return None
    return (
        BoardDisplayLink.objects.filter(token_sha256=token_hash(raw), revoked_at=None)
        .select_related("location")
        .first()
    )
