"""Signed letters are append-only and tamper-evident (issue #15 item 1, and its tamper suite).

Two signed letters (one with two addenda, both sent) and two Part 2 consents touch
every letters table. The database refuses UPDATE and DELETE of each signed record;
with the triggers switched off, as the table's owner could, `neuroclinic verify`
names each edited, deleted, inserted or reordered record. A draft may still be
edited and discarded, but never moved to another patient or recipient. Runs on
SQLite and PostgreSQL.
"""

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.audit.seals import SEALED_MODELS, verify_seals
from neuroclinic.audit.tests.tamper import (
    assert_attacks_named,
    assert_refused,
    assert_statement_refused,
)
from neuroclinic.letters.actions import letters
from neuroclinic.letters.models import Letter
from neuroclinic.letters.tests.conftest import give_communication_consent
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import CareTeamProvider, Patient

pytestmark = pytest.mark.django_db

LETTER_MODELS = [label for label in SEALED_MODELS if label.startswith("letters.")]


@pytest.fixture
def referrer(patient: Patient, front_desk: User) -> CareTeamProvider:
    return patient_actions.add_care_team_provider(
        patient,
        role=CareTeamProvider.Role.REFERRING,
        name="Dr Rowan Referrer (test)",
        fax="555-0199",
        email="rowan@example.com",
        by=front_desk,
    )


def _draft(patient: Patient, referrer: CareTeamProvider, prescriber: User) -> Letter:
    return letters.draft_letter(
        patient, kind="end_of_series", recipient=referrer, by=prescriber
    )


@pytest.fixture
def written(patient: Patient, referrer: CareTeamProvider, prescriber: User) -> Letter:
    give_communication_consent(patient)
    for purpose in ("Coordination of care", "Continuing care after the series"):
        letters.record_part2_consent(
            patient,
            recipient=referrer,
            purpose=purpose,
            expires_on=timezone.localdate() + timedelta(days=30),
            by=prescriber,
        )
    signed = []
    for _ in range(2):
        letter = letters.sign_letter(
            _draft(patient, referrer, prescriber), password=TEST_PASSWORD, by=prescriber
        )
        letters.record_send(letter, channel="fax", by=prescriber)
        signed.append(letter)
    for body in ("The PHQ-9 on day 12 was 5.", "Booster plan agreed."):
        letters.add_addendum(
            signed[0], body=body, password=TEST_PASSWORD, by=prescriber
        )
    return signed[0]


def test_every_signed_letter_record_refuses_update_and_delete_and_each_attack_is_named(
    written: Letter,
) -> None:
    assert verify_seals() == []
    for label in LETTER_MODELS:
        model = apps.get_model(label)
        pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
        assert len(pks) >= 2, f"the letters written have one {label} at most"
        assert_refused(model, pks[-1])
        made = assert_attacks_named(model, pks[-1], pks[0])
        assert made == ["edit", "delete", "insert", "reorder"], label
    assert verify_seals() == []  # every attack was rolled back


def _refused(statement: str, pk: int) -> None:
    assert_statement_refused(statement, [pk])


def test_a_draft_changes_its_text_but_not_whom_it_is_about(
    patient: Patient, referrer: CareTeamProvider, prescriber: User
) -> None:
    draft = _draft(patient, referrer, prescriber)
    letters.edit_draft(draft, body="Dear colleague, a shorter letter.", by=prescriber)
    for column, value in (
        ("patient_id", patient.pk + 1000),
        ("recipient_id", referrer.pk + 1000),
        ("created_by_id", prescriber.pk + 1000),
    ):
        _refused(
            f"UPDATE letters_letter SET {column} = {value} WHERE id = %s", draft.pk
        )
    letter = letters.sign_letter(draft, password=TEST_PASSWORD, by=prescriber)
    assert letter.status == Letter.Status.SIGNED
    _refused("UPDATE letters_letter SET body = 'Rewritten.' WHERE id = %s", letter.pk)
    _refused("UPDATE letters_letter SET status = 'draft' WHERE id = %s", letter.pk)
    _refused("DELETE FROM letters_letter WHERE id = %s", letter.pk)


def test_a_draft_nobody_signed_may_be_discarded(
    patient: Patient, referrer: CareTeamProvider, prescriber: User
) -> None:
    draft = _draft(patient, referrer, prescriber)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM letters_letter WHERE id = %s", [draft.pk])
    assert not Letter.objects.filter(pk=draft.pk).exists()
