"""Signatures: the signer re-enters their password on top of the two-factor session;
what was signed is bound by a content hash."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.treatment.errors import TreatmentError


def confirm_signature(password: str, *, what: str, by: User) -> None:
    """A signature is the signer re-entering their password, on top of the 2FA session.

    A wrong password is audited as a denied signature and refused.
    """
    if not password or not by.check_password(password):
        with transaction.atomic():
            record(
                AuditEvent.Action.SIGNATURE_REFUSED,
                actor=by,
                outcome=AuditEvent.Outcome.DENIED,
                what=what,
            )
        raise TreatmentError(
            "That password is not right: your password signs this.", field="password"
        )


def content_hash(content: Mapping[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
