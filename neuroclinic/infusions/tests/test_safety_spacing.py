"""Issue 14, item 9: the protocol's rhythm (minimum days between infusions, weekly
maximum, booster interval) is enforced when a session is checked in; checking in
over it needs a written reason, which the checklist and the timeline show."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Room
from neuroclinic.infusions.actions import session_flow
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession, SessionEvent
from neuroclinic.infusions.readiness import hard_stops, session_checklist
from neuroclinic.treatment.actions.orders import discontinue_order
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan
from neuroclinic.treatment.tests import factories as treatment_factories


def _infused(session: InfusionSession, days_ago: int) -> None:
    """Make `session` a finished infusion that ran `days_ago` days back."""
    started = timezone.now() - timedelta(days=days_ago)
    unguarded_update(
        InfusionSession.objects.filter(pk=session.pk),
        status=InfusionSession.Status.CLOSED,
        started_at=started,
        ended_at=started + timedelta(minutes=40),
    )


def _copy_infused(session: InfusionSession, days_ago: int) -> None:
    """One more finished infusion of the same patient, `days_ago` days back."""
    started = timezone.now() - timedelta(days=days_ago)
    InfusionSession.objects.create(
        organization_id=session.organization_id,
        patient=session.patient,
        plan=session.plan,
        order=session.order,
        location=session.location,
        room=session.room,
        sequence_number=1,
        sequence_total=6,
        service_date=started.date(),
        checked_in_by=session.checked_in_by,
        checked_in_at=started,
        nurse=session.nurse,
        status=InfusionSession.Status.CLOSED,
        started_at=started,
        ended_at=started + timedelta(minutes=40),
    )


def _written() -> tuple[int, int, int]:
    return (
        InfusionSession.objects.count(),
        SessionEvent.objects.count(),
        AuditEvent.objects.count(),
    )


def test_item9_a_second_infusion_on_the_same_day_is_refused_at_check_in(
    running: InfusionSession, room: Room, nurse: User
) -> None:
    _infused(running, 0)
    before = _written()
    with pytest.raises(InfusionError, match="Minimum days between infusions") as exc:
        session_flow.check_in(running.patient, room=room, by=nurse)
    assert exc.value.field == "spacing_override_reason"
    with pytest.raises(InfusionError, match="written reason"):
        session_flow.check_in(
            running.patient, room=room, spacing_override_reason="   ", by=nurse
        )
    assert _written() == before


def test_item9_the_next_day_is_allowed_without_a_reason(
    running: InfusionSession, room: Room, nurse: User
) -> None:
    _infused(running, 1)
    session = session_flow.check_in(
        running.patient, room=room, spacing_override_reason="not needed", by=nurse
    )
    assert session.spacing_override_reason == ""
    assert session.spacing_overridden == []


def test_item9_the_protocols_minimum_gap_is_the_one_used(
    running: InfusionSession, room: Room, nurse: User
) -> None:
    _infused(running, 1)
    unguarded_update(
        running.order.protocol.__class__.objects.filter(pk=running.order.protocol_id),
        min_days_between_infusions=2,
    )
    with pytest.raises(InfusionError, match="at least 2"):
        session_flow.check_in(running.patient, room=room, by=nurse)


def test_item9_a_fourth_infusion_in_seven_days_is_refused(
    running: InfusionSession, room: Room, nurse: User
) -> None:
    _infused(running, 2)
    _copy_infused(running, 4)
    _copy_infused(running, 6)
    before = _written()
    with pytest.raises(InfusionError, match="Weekly maximum: this would be infusion 4"):
        session_flow.check_in(running.patient, room=room, by=nurse)
    assert _written() == before


def test_item9_cancelled_sessions_do_not_count(
    running: InfusionSession, room: Room, nurse: User
) -> None:
    _infused(running, 0)
    unguarded_update(
        InfusionSession.objects.filter(pk=running.pk),
        status=InfusionSession.Status.CANCELLED,
    )
    session = session_flow.check_in(running.patient, room=room, by=nurse)
    assert session.spacing_overridden == []


def test_item9_an_override_with_a_reason_is_charted_and_shown_on_the_checklist(
    running: InfusionSession, room: Room, nurse: User
) -> None:
    _infused(running, 0)
    session = session_flow.check_in(
        running.patient,
        room=room,
        spacing_override_reason="Morning infusion stopped after 2 min for a pump fault",
        by=nurse,
    )
    assert session.spacing_override_reason.startswith("Morning infusion stopped")
    assert [r.split(":")[0] for r in session.spacing_overridden] == [
        "Minimum days between infusions"
    ]
    event = SessionEvent.objects.get(session=session, kind=SessionEvent.Kind.CHECKED_IN)
    assert event.data["reason"] == session.spacing_override_reason
    audit = AuditEvent.objects.filter(
        action=AuditEvent.Action.INFUSION_CHECKED_IN, patient=session.patient
    ).latest("id")
    assert audit.data["spacing_overridden"] == 1
    items = {i.key: i for i in session_checklist(session)}
    assert not items["order"].hard_stop
    assert any("pump fault" in m for m in items["order"].messages)
    assert not any("last infusion" in s for s in hard_stops(session_checklist(session)))


def test_item9_without_an_override_the_start_still_stops_on_the_minimum_gap(
    ready: InfusionSession,
) -> None:
    # A session checked in before its earlier infusion was charted (the start re-checks).
    unguarded_update(
        TreatmentPlan.objects.filter(pk=ready.plan_id),
        induction_dates=[ready.service_date.isoformat()],
    )
    ready.refresh_from_db()
    assert any("at least 1 day" in s for s in hard_stops(session_checklist(ready)))
    with pytest.raises(InfusionError):
        session_flow.start(ready, by=ready.nurse)


def test_item9_a_booster_inside_the_booster_interval_is_refused(
    running: InfusionSession, room: Room, nurse: User, prescriber: User
) -> None:
    plan = running.plan
    _infused(running, 10)
    long_ago = (timezone.now() - timedelta(days=80)).date()
    unguarded_update(
        TreatmentPlan.objects.filter(pk=plan.pk),
        induction_dates=[
            (long_ago + timedelta(days=2 * n)).isoformat() for n in range(6)
        ],
    )
    plan.refresh_from_db()
    discontinue_order(running.order, reason="Series complete", by=prescriber)
    booster = treatment_factories.sign_order(
        plan, prescriber, kind=ProtocolKind.BOOSTER
    )
    assert booster.kind == InfusionOrder.Kind.BOOSTER
    with pytest.raises(
        InfusionError, match="Booster interval: the last infusion was 10 days"
    ):
        session_flow.check_in(running.patient, room=room, by=nurse)
    session = session_flow.check_in(
        running.patient,
        room=room,
        spacing_override_reason="Relapse with PHQ-9 22; prescriber asked for an early booster",
        by=nurse,
    )
    assert session.order == booster
    assert session.spacing_overridden[0].startswith("Booster interval")


def test_item9_the_chart_page_refuses_with_the_rule_and_takes_a_reason(
    client: Client, running: InfusionSession, room: Room, nurse: User
) -> None:
    _infused(running, 0)
    login(client, nurse)
    url = reverse("infusions:check_in", kwargs={"patient_uuid": running.patient.uuid})
    chart = reverse("patients:chart", kwargs={"patient_uuid": running.patient.uuid})
    before = _written()
    response = client.post(url, {"room": room.pk})
    assert response["Location"] == chart
    assert _written() == before
    body = client.get(chart).content.decode()
    assert "Minimum days between infusions" in body
    assert "Reason to check in over the protocol" in body
    before = _written()

    response = client.post(url, {"room": room.pk, "spacing_override_reason": "x" * 501})
    assert _written() == before

    response = client.post(
        url, {"room": room.pk, "spacing_override_reason": "Pump fault this morning"}
    )
    session = InfusionSession.objects.get(status=InfusionSession.Status.CHECKED_IN)
    assert response["Location"] == reverse(
        "infusions:session", kwargs={"session_uuid": session.uuid}
    )
    page = client.get(response["Location"]).content.decode()
    assert "Pump fault this morning" in page
