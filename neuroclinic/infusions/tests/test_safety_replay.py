"""Issue 14, item 5: an entry from the tablet's offline queue belongs to the person who
made it; the server refuses it from anyone else, and records nothing."""

from collections.abc import Callable
from decimal import Decimal

from django.test import Client
from django.urls import reverse

from conftest import login, make_staff
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.models import InfusionSession, SessionEvent
from neuroclinic.infusions.tests import factories
from neuroclinic.ledger.models import LedgerEntry


def _stop_url(session: InfusionSession) -> str:
    return reverse(
        "infusions:step", kwargs={"session_uuid": session.uuid, "step_name": "stop"}
    )


def _stop_body(made_by: User | None) -> dict[str, str]:
    body = {
        "stop-completed": "yes",
        "stop-reason": "",
        "stop-volume_infused_ml": "100.80",
    }
    if made_by is not None:
        body["made_by"] = str(made_by.uuid)
    return body


def test_item5_nurse_as_queued_stop_is_not_recorded_under_nurse_b(
    running: InfusionSession, nurse: User, client: Client
) -> None:
    factories.ran_for(running, 40)
    login(client, make_staff(running.organization, "nurse-b", Role.NURSE))
    before = (
        SessionEvent.objects.filter(session=running).count(),
        LedgerEntry.objects.count(),
        AuditEvent.objects.filter(action=AuditEvent.Action.INFUSION_STOPPED).count(),
    )

    replayed = client.post(
        _stop_url(running), _stop_body(nurse), headers={"X-Tablet-Replay": "1"}
    )
    unsigned = client.post(
        _stop_url(running), _stop_body(None), headers={"X-Tablet-Replay": "1"}
    )

    assert replayed.status_code == 409
    assert unsigned.status_code == 409
    running.refresh_from_db()
    assert running.status == InfusionSession.Status.RUNNING
    assert (
        SessionEvent.objects.filter(session=running).count(),
        LedgerEntry.objects.count(),
        AuditEvent.objects.filter(action=AuditEvent.Action.INFUSION_STOPPED).count(),
    ) == before


def test_item5_the_maker_sends_their_own_queued_stop(
    running: InfusionSession, nurse: User, as_persona: Callable[[str], Client]
) -> None:
    factories.ran_for(running, 40)
    tablet = as_persona("nurse")

    sent = tablet.post(
        _stop_url(running), _stop_body(nurse), headers={"X-Tablet-Replay": "1"}
    )

    assert sent.status_code == 302
    running.refresh_from_db()
    assert running.status == InfusionSession.Status.RECOVERY
    stopped = running.events.get(kind=SessionEvent.Kind.STOPPED)
    assert stopped.by == nurse
    assert running.mg_given == Decimal("40.00")
