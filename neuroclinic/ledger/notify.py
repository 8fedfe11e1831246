"""Email from the ledger: custodians hear of discrepancies, escalations and checks.

Mail goes out after the commit and never undoes it: a mail server that is down is
logged for the admins, and the record stands.
"""

import logging

from django.core.mail import send_mail
from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role

logger = logging.getLogger(__name__)


def send_safely(subject: str, body: str, recipients: list[str]) -> None:
    """Email that must not undo the committed record if the mail server is down."""
    try:
        send_mail(
            subject=f"[Neuroclinic] {subject}",
            message=body,
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:  # the record stands; the failure is logged for the admins
        logger.exception("Could not email %s about %r", recipients, subject)


def notify_custodians(organization_id: int, subject: str, body: str) -> list[str]:
    """Email the organization's custodians (and medical directors) after commit."""
    recipients = sorted(
        {
            u.email
            for u in User.objects.filter(
                organization_id=organization_id,
                is_active=True,
                groups__name__in=[Role.CUSTODIAN.value, Role.MEDICAL_DIRECTOR.value],
            )
            if u.email
        }
    )
    if recipients:
        transaction.on_commit(lambda: send_safely(subject, body, recipients))
    return recipients
