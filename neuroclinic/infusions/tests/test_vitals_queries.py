"""The monitor feed's statements per request, pinned (issue 17, hot paths).

Under load every statement is a round trip, so the count decides the feed's speed.
Counted with CaptureQueriesContext around one bearer-token request (the token
already used once, so its sparse use record is not in the count), after a first
request so the session's audit chain exists. The counts include the transaction's
BEGIN/COMMIT only where Django logs them (savepoints are logged; BEGIN is not).
"""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from neuroclinic.accounts.actions import create_api_token
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.seals import verify_seals
from neuroclinic.clinics.models import Device
from neuroclinic.infusions.models import InfusionSession, VitalReading
from neuroclinic.infusions.tests import factories

# One request with one reading, and with a batch of ten, on a steady feed with no
# alarm to raise or clear (was 20 for both before issue 17's cuts, on SQLite; 11
# before the alarm rules stopped reading the whole window and the open alarms on
# their own): the token and the user's groups (remembered between requests when
# API_TOKEN_CACHE_SECONDS is set, as in production; not in tests), the
# transaction, the access check that locks the session (with the patient and the
# protocol's alarm limits, no other table), the location's monitors, the INSERT
# that skips resends, the seals' INSERT, the audit event (one INSERT that claims
# the chain's head, links the event and moves the head), and the newest readings
# with whether any alarm is open. The same on SQLite and PostgreSQL.
STATEMENTS = 10


def _post(client: Client, session: InfusionSession, body: object, raw: str) -> int:
    response = client.post(
        f"/api/infusions/sessions/{session.uuid}/vitals",
        json.dumps(body, default=str),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200, response.content
    accepted = response.json()["accepted"]
    assert isinstance(accepted, int)
    return accepted


@pytest.mark.parametrize("size", [1, 10])
def test_a_monitor_request_costs_a_fixed_number_of_statements(
    client: Client,
    nurse: User,
    running: InfusionSession,
    monitor: Device,
    size: int,
) -> None:
    _, raw = create_api_token(nurse, name="monitor", by=nurse)
    now = timezone.now()
    _post(client, running, factories.reading(now - timedelta(seconds=60), monitor), raw)
    batch = [
        factories.reading(now - timedelta(seconds=size - n), monitor)
        for n in range(size)
    ]
    body = batch[0] if size == 1 else {"readings": batch}
    before = VitalReading.objects.filter(session=running).count()
    with CaptureQueriesContext(connection) as captured:
        assert _post(client, running, body, raw) == size
    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) == STATEMENTS, "\n".join(statements)
    # What the statements bought: the readings, their seals and the audit event.
    assert VitalReading.objects.filter(session=running).count() == before + size
    assert verify_seals() == []
    recorded = AuditEvent.objects.filter(
        action=AuditEvent.Action.INFUSION_VITALS_RECORDED
    ).latest("seq")
    assert recorded.data["count"] == size


def test_an_open_alarm_is_read_and_cleared_in_the_same_request(
    client: Client, nurse: User, running: InfusionSession, monitor: Device
) -> None:
    """The newest readings say an alarm is open, so the alarms are read: five
    statements more than a quiet feed's (the open alarms, the clearing UPDATE,
    the alarm's seal read back and written, the audit event), and the answer no
    longer lists it."""
    _, raw = create_api_token(nurse, name="monitor", by=nurse)
    now = timezone.now()  # the readings are newer than the check-in's own
    _post(client, running, factories.reading(now + timedelta(seconds=10), monitor), raw)
    critical = client.post(
        f"/api/infusions/sessions/{running.uuid}/vitals",
        json.dumps(
            factories.reading(now + timedelta(seconds=20), monitor, spo2_percent=85)
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert [a["code"] for a in critical.json()["alarms"]] == ["spo2_critical"]

    with CaptureQueriesContext(connection) as captured:
        recovered = client.post(
            f"/api/infusions/sessions/{running.uuid}/vitals",
            json.dumps(factories.reading(now + timedelta(seconds=30), monitor)),
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}"},
        )

    assert recovered.status_code == 200, recovered.content
    assert recovered.json()["alarms"] == []
    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) == STATEMENTS + 5, "\n".join(statements)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.INFUSION_ALARM_CLEARED
    ).exists()
