"""Issue 14, item 7: the note is signed by the nurse who ran the infusion, or by another
nurse as a named takeover with a reason."""

import pytest

from conftest import TEST_PASSWORD, make_staff
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.actions import notes
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionNote, InfusionSession


def test_item7_another_nurse_cannot_sign_without_taking_over(
    running: InfusionSession, nurse: User
) -> None:
    other = make_staff(running.organization, "nurse-b", Role.NURSE)
    refusals = AuditEvent.objects.filter(action=AuditEvent.Action.SIGNATURE_REFUSED)

    with pytest.raises(InfusionError, match="ran this infusion and signs its note"):
        notes.sign_note(running, password=TEST_PASSWORD, by=other)

    assert not InfusionNote.objects.exists()
    assert not refusals.exists()
    # With a named takeover and its reason, the signer check passes (the note then waits
    # for the discharge, as for anyone).
    with pytest.raises(InfusionError, match="Cannot sign the note"):
        notes.sign_note(
            running,
            password=TEST_PASSWORD,
            takeover_reason="Nurse Tester went home ill",
            by=other,
        )
