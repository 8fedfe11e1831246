"""The nurse's note: signed (password, then the note is built from the chart and
locked), co-signed by a prescriber, corrected only by addenda.

The signature is checked outside the note's transaction, so a refused signature stays
on the audit log.
"""

import hashlib
from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.infusions.actions.common import (
    lock_session,
    require_status,
    timeline_event,
)
from neuroclinic.infusions.actions.dose_draw import check_reconciled
from neuroclinic.infusions.actions.recovery_discharge import unacknowledged_alarms
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import (
    InfusionNote,
    InfusionSession,
    NoteAddendum,
    SessionEvent,
)
from neuroclinic.infusions.note_text import build_note
from neuroclinic.lib.compiled import CompiledGet
from neuroclinic.notifications.actions import notify
from neuroclinic.treatment.actions.signatures import confirm_signature
from neuroclinic.treatment.errors import TreatmentError


def sign_note(
    session: InfusionSession,
    *,
    password: str,
    takeover_reason: str = "",
    now: datetime | None = None,
    by: User,
) -> InfusionNote:
    """The nurse who ran the infusion signs the note built from the chart (another nurse
    only as a named takeover, with a reason); the session closes and the note locks."""
    _require_running_nurse(session, takeover_reason=takeover_reason, by=by)
    try:
        # Outside the transaction, so a refused signature stays on the audit log.
        confirm_signature(password, by=by, what=f"infusion note {session.uuid}")
    except TreatmentError as exc:
        raise InfusionError(exc.message, field="password") from None
    note = _sign_note(session, by=by, now=now, takeover_reason=takeover_reason)
    prescriber = session.patient.prescriber or session.order.signed_by
    if prescriber.pk != by.pk:
        notify(
            prescriber,
            subject="Infusion note to co-sign",
            link=reverse("infusions:session", kwargs={"session_uuid": session.uuid}),
        )
    return note


def _require_running_nurse(
    session: InfusionSession, *, takeover_reason: str, by: User
) -> None:
    if session.nurse_id == by.pk or takeover_reason.strip():
        return
    raise InfusionError(
        f"{session.nurse.display_name} ran this infusion and signs its note. To sign it yourself, take it "
        "over: say why.",
        field="takeover_reason",
    )


@transaction.atomic
def _sign_note(
    session: InfusionSession,
    *,
    now: datetime | None,
    by: User,
    takeover_reason: str = "",
) -> InfusionNote:
    session = lock_session(session)
    _require_running_nurse(session, takeover_reason=takeover_reason, by=by)
    require_status(session, InfusionSession.Status.DISCHARGED, doing="sign the note")
    check_reconciled(session)
    if unacknowledged_alarms(session):
        raise InfusionError("Acknowledge every alarm first.", field="alarms")
    now = now or timezone.now()
    body = build_note(session, signed_by=by, signed_at=now)
    note = InfusionNote.objects.create(
        session=session,
        body=body,
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        signed_by=by,
        signed_at=now,
    )
    session.status = InfusionSession.Status.CLOSED
    session.closed_at = now
    session.save(update_fields=["status", "closed_at"])
    takeover = takeover_reason.strip() if session.nurse_id != by.pk else ""
    timeline_event(
        session,
        SessionEvent.Kind.NOTE_SIGNED,
        at=now,
        reason=f"Taken over from {session.nurse.display_name}: {takeover}"
        if takeover
        else "",
        by=by,
    )
    record(
        AuditEvent.Action.INFUSION_NOTE_SIGNED,
        actor=by,
        patient=session.patient,
        subject=session,
        body_sha256=note.body_sha256,
        takeover_reason=takeover or None,
    )
    return note


# The note to co-sign, locked with its session and patient; compiled once per
# connection (lib.compiled), as the session locks are.
_locked_note = CompiledGet(
    lambda: InfusionNote.objects.select_for_update().select_related("session__patient")
)


def cosign_note(
    note: InfusionNote, *, password: str, now: datetime | None = None, by: User
) -> InfusionNote:
    if Role.PRESCRIBER not in by.roles and Role.MEDICAL_DIRECTOR not in by.roles:
        raise InfusionError(
            "Only a prescriber co-signs infusion notes.", field="password"
        )
    try:
        confirm_signature(password, by=by, what=f"co-sign note {note.session.uuid}")
    except TreatmentError as exc:
        raise InfusionError(exc.message, field="password") from None
    return _cosign_note(note, by=by, now=now)


@transaction.atomic
def _cosign_note(note: InfusionNote, *, now: datetime | None, by: User) -> InfusionNote:
    note = _locked_note(note.pk)
    if note.cosigned_at is not None:
        raise InfusionError("This note is already co-signed.", field="note")
    if note.signed_by_id == by.pk:
        raise InfusionError(
            "The co-signer must be someone other than the nurse who signed.",
            field="note",
        )
    now = now or timezone.now()
    note.cosigned_by, note.cosigned_at = by, now
    note.save(update_fields=["cosigned_by", "cosigned_at"])
    timeline_event(note.session, SessionEvent.Kind.NOTE_COSIGNED, at=now, by=by)
    record(
        AuditEvent.Action.INFUSION_NOTE_COSIGNED,
        actor=by,
        patient=note.session.patient,
        subject=note.session,
    )
    return note


@transaction.atomic
def add_addendum(note: InfusionNote, *, text: str, by: User) -> NoteAddendum:
    if not text.strip():
        raise InfusionError("Write the addendum.", field="text")
    note = InfusionNote.objects.select_related("session__patient").get(pk=note.pk)
    addendum = NoteAddendum.objects.create(
        note=note, text=text.strip(), added_by=by, added_at=timezone.now()
    )
    record(
        AuditEvent.Action.INFUSION_ADDENDUM_ADDED,
        actor=by,
        patient=note.session.patient,
        subject=note.session,
        addendum=str(addendum.uuid),
    )
    return addendum
