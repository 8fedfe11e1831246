"""Issue 18, items 3 and 9: which step the tablet screen opens, and what the checklist's
pregnancy item says."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.infusions.actions import session_flow
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.readiness import session_checklist
from neuroclinic.infusions.stepper import Progress, current_step, step_states
from neuroclinic.infusions.tests.factories import fill_checklist, ran_for
from neuroclinic.infusions.views.screen import steps_version
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


# The steps refresh themselves (issue 18, item 3: no reload in the tap count) -----------------


def steps_url(session: InfusionSession, version: str) -> str:
    return f"/infusions/sessions/{session.uuid}/steps?v={version}"


HX = {"HX-Request": "true"}


def test_the_open_screen_polls_its_steps_with_the_version_it_shows(
    client: Client, nurse: User, session: InfusionSession
) -> None:
    body = page(client, nurse, session)
    version = steps_version(session)
    assert (
        f'<div id="steps" hx-get="{steps_url(session, version)}" '
        'hx-trigger="every 5s" hx-swap="outerHTML">' in body
    )


def test_the_steps_answer_204_while_nothing_changed_and_write_nothing(
    client: Client, nurse: User, session: InfusionSession
) -> None:
    login(client, nurse)
    events = AuditEvent.objects.count()
    response = client.get(steps_url(session, steps_version(session)), headers=HX)
    assert response.status_code == 204
    assert response.content == b""
    assert AuditEvent.objects.count() == events


def test_a_confirmed_checklist_elsewhere_opens_the_dose_step_by_itself(
    client: Client, nurse: User, session: InfusionSession
) -> None:
    login(client, nurse)
    shown = steps_version(session)
    fill_checklist(session, nurse)
    session_flow.confirm_checklist(session, by=nurse)  # another tablet, say
    session.refresh_from_db()

    response = client.get(steps_url(session, shown), headers=HX)

    assert response.status_code == 200
    body = response.content.decode()
    assert '<div id="steps"' in body[:400]
    assert f"v={steps_version(session)}" in body
    assert '<details class="step-body" open>\n  <summary><h2 id="dose-h">' in body
    assert "<html" not in body  # the steps only, not the page
    assert (
        client.get(steps_url(session, steps_version(session)), headers=HX).status_code
        == 204
    )


def test_recovery_minutes_passing_refresh_the_recovery_step(
    client: Client, nurse: User, running: InfusionSession
) -> None:
    session_flow.stop(
        ran_for(running, 40), by=nurse, reason="Patient asked to stop", completed=False
    )
    running.refresh_from_db()
    assert running.ended_at is not None
    minimum = running.order.protocol.min_recovery_minutes
    at_stop = steps_version(running, now=running.ended_at)
    assert (
        steps_version(running, now=running.ended_at + timedelta(seconds=30)) == at_stop
    )
    assert (
        steps_version(running, now=running.ended_at + timedelta(minutes=1)) != at_stop
    )
    # Past the minimum the minutes no longer change what the step shows.
    assert steps_version(
        running, now=running.ended_at + timedelta(minutes=minimum + 1)
    ) == steps_version(running, now=running.ended_at + timedelta(minutes=minimum + 9))

    login(client, nurse)
    shown = steps_version(running)
    unguarded_update(
        InfusionSession.objects.filter(pk=running.pk),
        ended_at=running.ended_at - timedelta(minutes=minimum + 1),
    )
    response = client.get(steps_url(running, shown), headers=HX)
    assert response.status_code == 200
    assert (
        f"{minimum + 1} of {minimum} minutes of recovery" in response.content.decode()
    )


def test_a_closed_or_cancelled_screen_does_not_poll_its_steps(
    client: Client, nurse: User, session: InfusionSession
) -> None:
    session_flow.cancel(session, by=nurse, reason="Patient unwell today")
    body = page(client, nurse, session)
    assert '<div id="steps">' in body
    assert "/steps?v=" not in body


def test_other_clinics_and_non_clinical_staff_cannot_poll_the_steps(
    client: Client, outsider: User, billing: User, session: InfusionSession
) -> None:
    for user in (outsider, billing):
        login(client, user)
        assert client.get(steps_url(session, ""), headers=HX).status_code in (403, 404)
