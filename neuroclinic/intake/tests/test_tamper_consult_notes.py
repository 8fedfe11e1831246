"""A consult request's notes are append-only and tamper-evident (issue #15 item 1:
notes): the database refuses UPDATE and DELETE, and with the triggers off
`neuroclinic verify` names each edit, delete, insert and reorder as its first
problem. SQLite and PostgreSQL.
"""

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.audit.seals import verify_seals
from neuroclinic.audit.tests.tamper import assert_attacks_named, assert_refused
from neuroclinic.clinics.models import Organization
from neuroclinic.intake.actions import consult_requests
from neuroclinic.intake.models import ConsultNote
from neuroclinic.intake.tests.factories import consult_request

pytestmark = pytest.mark.django_db


def test_consult_notes_refuse_update_and_delete_and_each_attack_is_named(
    organization: Organization, front_desk: User
) -> None:
    request = consult_request(organization)
    first = consult_requests.add_consult_note(
        request, by=front_desk, text="Left a message."
    )
    second = consult_requests.add_consult_note(
        request, by=front_desk, text="Called back; booked a consult."
    )
    assert verify_seals() == []
    assert_refused(ConsultNote, second.pk)
    made = assert_attacks_named(ConsultNote, second.pk, first.pk)
    assert made == ["edit", "delete", "insert", "reorder"]
    assert verify_seals() == []
