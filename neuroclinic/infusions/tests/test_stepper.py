"""Issue 18, items 3 and 9: which step the tablet screen opens, and what the checklist's
pregnancy item says."""

from decimal import Decimal

import pytest
from django.test import Client

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.readiness import session_checklist
from neuroclinic.infusions.stepper import Progress, current_step, step_states
from neuroclinic.patients.models import Patient

NONE = Decimal("0")


@pytest.mark.parametrize(
    ("status", "confirmed", "can_start", "can_discharge", "outstanding", "step"),
    [
        ("checked_in", False, False, False, NONE, "checklist"),
        ("checked_in", True, False, False, NONE, "dose"),
        ("checked_in", True, True, False, NONE, "running"),
        ("running", True, True, False, NONE, "running"),
        ("paused", True, True, False, NONE, "running"),
        ("recovery", True, True, False, Decimal("0.20"), "recovery"),
        ("recovery", True, True, True, Decimal("0.20"), "discharge"),
        ("discharged", True, True, True, Decimal("0.20"), "waste"),
        ("discharged", True, True, True, NONE, "note"),
        ("closed", True, True, True, NONE, "note"),
        ("cancelled", False, False, False, NONE, None),
    ],
)
def test_the_current_step_follows_what_the_session_records(
    status: str,
    confirmed: bool,
    can_start: bool,
    can_discharge: bool,
    outstanding: Decimal,
    step: str | None,
) -> None:
    progress = Progress(status, confirmed, can_start, can_discharge, outstanding)
    assert current_step(progress) == step


def test_steps_before_the_current_one_are_done_and_after_it_later() -> None:
    states = step_states("running")
    assert [k for k, v in states.items() if v == "done"] == [
        "check_in",
        "checklist",
        "dose",
    ]
    assert states["running"] == "current"
    assert states["note"] == "later"
    assert set(step_states(None).values()) == {"later"}


def page(client: Client, nurse: User, session: InfusionSession) -> str:
    login(client, nurse)
    response = client.get(f"/infusions/sessions/{session.uuid}/")
    assert response.status_code == 200
    return response.content.decode()


def test_at_check_in_only_the_checklist_is_open_and_later_steps_are_not_shown(
    client: Client, nurse: User, session: InfusionSession
) -> None:
    body = page(client, nurse, session)
    assert (
        'aria-current="step"><span class="visually-hidden">Now: </span>Checklist'
        in body
    )
    assert '<details class="step-body" open>\n  <summary><h2 id="checklist-h">' in body
    assert 'id="recovery"' not in body
    assert 'id="note"' not in body
    assert 'style="' not in body


def test_once_confirmed_the_checklist_is_one_line_and_the_dose_is_open(
    client: Client, nurse: User, ready: InfusionSession
) -> None:
    body = page(client, nurse, ready)
    assert '<details class="step-body">\n  <summary><h2 id="checklist-h">' in body
    assert "✓ Confirmed" in body
    assert '<details class="step-body" open>\n  <summary><h2 id="dose-h">' in body


def test_while_running_stop_is_apart_and_the_history_is_collapsed(
    client: Client, nurse: User, running: InfusionSession
) -> None:
    body = page(client, nurse, running)
    pump = body.index('class="pump-controls"')
    stop = body.index('class="stop-form"')
    assert pump < body.index("Change rate") < stop
    assert '<details><summary><h2 id="timeline-h">History</h2>' in body
    assert '<details class="step-body">\n  <summary><h2 id="dose-h">' in body


def pregnancy_item(session: InfusionSession) -> str:
    (item,) = [i for i in session_checklist(session) if i.key == "pregnancy"]
    return str(item.detail)


def test_the_pregnancy_item_shows_what_was_entered_even_where_it_does_not_apply(
    session: InfusionSession,
) -> None:
    Patient.objects.filter(pk=session.patient_id).update(sex_at_birth="male")
    session.refresh_from_db()
    session.patient.refresh_from_db()
    assert pregnancy_item(session) == "Does not apply"
    unguarded_update(
        InfusionSession.objects.filter(pk=session.pk),
        pregnancy_status="reported_not_pregnant",
        pregnancy_note="asked at check-in",
    )
    session.refresh_from_db()
    assert pregnancy_item(session) == (
        "Not pregnant (patient report) (entered; not required for this patient): "
        "asked at check-in"
    )


def test_the_pregnancy_item_where_it_applies_names_the_entry(
    session: InfusionSession,
) -> None:
    unguarded_update(
        InfusionSession.objects.filter(pk=session.pk), pregnancy_status="test_negative"
    )
    session.refresh_from_db()
    assert pregnancy_item(session) == "Not pregnant (test negative today)"
