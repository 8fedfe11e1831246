"""Issue 14, items 4 and 13: charted times must be possible, and "completed as
ordered" must be plausible."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.actions import session_flow
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession, SessionEvent
from neuroclinic.infusions.tests import factories
from neuroclinic.ledger.models import LedgerEntry


def _nothing_written(session: InfusionSession) -> tuple[int, int, int]:
    return (
        SessionEvent.objects.filter(session=session).count(),
        LedgerEntry.objects.count(),
        AuditEvent.objects.count(),
    )


def test_item4_a_stop_before_the_start_is_refused(
    running: InfusionSession, nurse: User
) -> None:
    factories.ran_for(running, 20)
    running.refresh_from_db()
    assert running.started_at is not None
    before = _nothing_written(running)

    with pytest.raises(InfusionError, match="the pump's last step was at"):
        session_flow.stop(
            running,
            by=nurse,
            reason="Entered late: monitor alarm",
            completed=False,
            occurred_at=running.started_at - timedelta(minutes=2),
        )

    running.refresh_from_db()
    assert running.status == InfusionSession.Status.RUNNING
    assert running.ended_at is None
    assert _nothing_written(running) == before


def test_item4_a_pause_in_the_future_is_refused(
    running: InfusionSession, nurse: User
) -> None:
    with pytest.raises(InfusionError, match="future"):
        session_flow.pause(
            running,
            by=nurse,
            reason="Nausea",
            occurred_at=timezone.now() + timedelta(minutes=10),
        )


def test_item4_backdating_beyond_the_window_needs_a_reason(
    running: InfusionSession, nurse: User
) -> None:
    factories.ran_for(running, 60)
    late = timezone.now() - timedelta(minutes=20)
    with pytest.raises(InfusionError, match="say why it is entered late"):
        session_flow.stop(
            running,
            by=nurse,
            reason="",
            completed=True,
            volume_infused_ml=Decimal("100.80"),
            occurred_at=late,
        )

    session_flow.stop(
        running,
        by=nurse,
        reason="Entered late: the tablet was charging",
        completed=True,
        volume_infused_ml=Decimal("100.80"),
        occurred_at=late,
    )
    running.refresh_from_db()
    # The recovery clock starts at the real stop, not when it was typed.
    assert running.ended_at == late


def test_item4_a_volume_far_from_the_pump_estimate_needs_a_reason(
    running: InfusionSession, nurse: User
) -> None:
    factories.ran_for(running, 20)  # half of a 40-minute bag: about 50 mL
    with pytest.raises(InfusionError, match="differs from the pump's estimate"):
        session_flow.stop(
            running,
            by=nurse,
            reason="",
            completed=True,
            volume_infused_ml=Decimal("100.80"),
        )


def test_item13_a_12_second_completed_as_ordered_infusion_is_refused(
    running: InfusionSession, nurse: User
) -> None:
    before = _nothing_written(running)

    with pytest.raises(InfusionError, match="Mark it stopped early"):
        session_flow.stop(running, by=nurse, reason="", completed=True)

    running.refresh_from_db()
    assert running.status == InfusionSession.Status.RUNNING
    assert running.mg_given is None
    assert _nothing_written(running) == before


def test_item13_a_short_bag_is_not_completed_as_ordered(
    running: InfusionSession, nurse: User
) -> None:
    factories.ran_for(running, 40)
    with pytest.raises(InfusionError, match=r"with 60\.00 of 100\.80 mL"):
        session_flow.stop(
            running,
            by=nurse,
            reason="Pump read 60 mL",
            completed=True,
            volume_infused_ml=Decimal("60.00"),
        )
    # Marked stopped early with its reason, the same stop is charted.
    session_flow.stop(
        running,
        by=nurse,
        reason="Pump read 60 mL; patient asked to stop",
        completed=False,
        volume_infused_ml=Decimal("60.00"),
    )
    running.refresh_from_db()
    assert running.stopped_early


def test_item13_the_tablet_page_refuses_an_implausible_completion(
    running: InfusionSession, as_persona: Callable[[str], Client]
) -> None:
    tablet = as_persona("nurse")

    response = tablet.post(
        reverse(
            "infusions:step", kwargs={"session_uuid": running.uuid, "step_name": "stop"}
        ),
        {"stop-completed": "yes", "stop-reason": "", "stop-volume_infused_ml": ""},
    )

    running.refresh_from_db()
    assert running.status == InfusionSession.Status.RUNNING
    assert "Mark it stopped early" in response.content.decode()
