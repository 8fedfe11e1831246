"""Sending notifications. Email goes out after the transaction commits."""

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.lib.links import absolute_url
from neuroclinic.notifications.models import Notification

logger = logging.getLogger(__name__)


def notify(
    recipient: User,
    *,
    subject: str,
    body: str = "",
    link: str = "",
    urgent: bool = False,
) -> Notification:
    """Put a notification in the recipient's inbox and, when urgent, email them.

    The email says only that something needs attention and where: no patient
    details travel by email.
    """
    assert recipient.organization_id is not None
    notification = Notification.objects.create(
        organization_id=recipient.organization_id,
        recipient=recipient,
        subject=subject,
        body=body,
        link=link,
        urgency=Notification.Urgency.URGENT if urgent else Notification.Urgency.NORMAL,
    )
    if urgent and recipient.email:
        address = recipient.email
        transaction.on_commit(lambda: _email(address, subject, link))
    return notification


def _email(address: str, subject: str, link: str) -> None:
    """Say that something needs attention, and where. A mail server that is down
    must not undo the committed notification: the failure is logged instead."""
    try:
        send_mail(
            subject=f"[Neuroclinic] {subject}",
            message=(
                "Something needs your attention in Neuroclinic. Sign in to see it:\n"
                f"{absolute_url(link or '/')}\n"
            ),
            from_email=None,
            recipient_list=[address],
        )
    except Exception:  # the inbox entry stands; the admins see the failure in the log
        logger.exception("Could not email an urgent notification to %s", address)


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
