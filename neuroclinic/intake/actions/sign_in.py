"""Portal sign-in links: single-use, expiring, stored hashed; sent by email or text,
shown once, or opened on the clinic tablet."""

import secrets
from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.audit.refusals import record_refusal
from neuroclinic.intake import uploads
from neuroclinic.intake.errors import IntakeError, SignInLinkInvalid
from neuroclinic.intake.models import (
    PortalSignInLink,
)
from neuroclinic.lib.links import absolute_url
from neuroclinic.lib.messaging import send_email, send_sms
from neuroclinic.patients.models import Patient

SIGN_IN_SALT = "neuroclinic.intake.portal-sign-in"
SIGN_IN_LINK_HOURS = 72
TABLET_LINK_MINUTES = 30


# Portal sign-in ------------------------------------------------------------------------


@transaction.atomic
def create_sign_in_link(
    patient: Patient,
    *,
    channel: PortalSignInLink.Channel,
    lifetime: timedelta = timedelta(hours=SIGN_IN_LINK_HOURS),
    by: User | None,
) -> tuple[PortalSignInLink, str]:
    """A single-use, expiring sign-in link; returns it and its token (stored only hashed)."""
    token = signing.dumps(secrets.token_urlsafe(24), salt=SIGN_IN_SALT, compress=True)
    link = PortalSignInLink.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        token_hash=uploads.sha256_hex(token),
        channel=channel,
        created_by=by,
        expires_at=timezone.now() + lifetime,
    )
    record(
        AuditEvent.Action.PORTAL_SIGN_IN_SENT,
        actor=by,
        patient=patient,
        subject=link,
        channel=channel,
    )
    return link, token


def sign_in_url(token: str) -> str:
    return absolute_url(reverse("portal:sign_in", kwargs={"token": token}))


def send_sign_in_link(
    link: PortalSignInLink, token: str, *, reminder: bool = False
) -> None:
    """Send the link by its channel after commit. The message carries no clinical content."""
    patient = link.patient
    clinic = patient.organization.name
    what = "finish" if reminder else "complete"
    text = (
        f"{clinic}: please {what} your intake forms before your visit. "
        f"This link works once and expires in {SIGN_IN_LINK_HOURS} hours: {sign_in_url(token)}"
    )
    if link.channel == PortalSignInLink.Channel.EMAIL:
        if not patient.email:
            raise IntakeError(
                "The patient has no email address on file.", field="channel"
            )
        email = patient.email
        transaction.on_commit(
            lambda: send_email(email, f"{clinic}: your intake forms", text)
        )
    elif link.channel == PortalSignInLink.Channel.SMS:
        if not patient.phone:
            raise IntakeError(
                "The patient has no phone number on file.", field="channel"
            )
        phone = patient.phone
        transaction.on_commit(lambda: send_sms(phone, text))


INVALID_LINK = "This sign-in link is not valid. Check you copied all of it, or ask the clinic for a new one."


@transaction.atomic
def use_sign_in_link(token: str) -> PortalSignInLink:
    """Spend a sign-in link: returns it, marked used; else SignInLinkInvalid saying why and nothing more.

    Refusals are audited without naming the patient.
    """
    try:
        signing.loads(token, salt=SIGN_IN_SALT)
    except signing.BadSignature:
        raise SignInLinkInvalid(INVALID_LINK) from None
    link = (
        PortalSignInLink.objects.select_for_update()
        .select_related("patient", "patient__organization")
        .filter(token_hash=uploads.sha256_hex(token))
        .first()
    )
    if link is None:
        raise SignInLinkInvalid(INVALID_LINK)
    if link.used_at is not None:
        raise SignInLinkInvalid(
            "This sign-in link was already used: each link works once. "
            "Ask the clinic to send you a new one."
        )
    if link.expires_at <= timezone.now():
        raise SignInLinkInvalid(
            "This sign-in link has expired. Ask the clinic to send you a new one."
        )
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    record(
        AuditEvent.Action.PORTAL_SIGNED_IN,
        actor=None,
        patient=link.patient,
        subject=link,
        channel=link.channel,
    )
    return link


def record_refused_sign_in(reason: str) -> None:
    """Counted per source and window, recorded in aggregate (audit/refusals.py)."""
    record_refusal(AuditEvent.Action.PORTAL_SIGN_IN_REFUSED, reason=reason)
