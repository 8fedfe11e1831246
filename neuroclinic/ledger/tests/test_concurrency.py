"""Two nurses drawing from the same vial at the same moment cannot overdraw it.

Real concurrent transactions, one database connection per thread, on
PostgreSQL: what is under test is the row lock (`select_for_update`) on the
container. SQLite serializes writers with IMMEDIATE transactions, so the race
cannot happen there and the test is skipped.
"""

import threading
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.ledger import rules
from neuroclinic.ledger.actions import sessions
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import Container, LedgerEntry, Registrant
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.verify import verify_registrant
from neuroclinic.patients.models import Patient

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serializes writers (IMMEDIATE transactions); the PostgreSQL row "
        "lock on the container is what this test exercises",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_simultaneous_draws_cannot_overdraw_a_vial(
    organization: Organization,
    custodian: User,
    nurse: User,
    prescriber: User,
    patient: Patient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given one 10 mL vial
    registrant = factories.make_registrant(organization, by=custodian)
    safe = factories.make_safe(registrant, by=custodian)
    product = factories.make_product(organization, by=custodian)
    supplier = factories.make_supplier(organization, by=custodian)
    [vial] = factories.receive(
        registrant, by=custodian, product=product, supplier=supplier, safe=safe, count=1
    )
    # Widen the race window: each draw pauses after its balance check, still in its
    # transaction. Without the container lock both would pass the check on 10 mL.
    real_check = rules.check_draw

    def slow_check(**kwargs: Any) -> None:
        real_check(**kwargs)
        time.sleep(0.5)

    monkeypatch.setattr(sessions, "check_draw", slow_check)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def draw(who: User) -> None:
        try:
            start.wait()
            sessions.draw_for_session(
                vial,
                session_ref=uuid.uuid4(),
                patient=patient,
                volume_ml=Decimal("6.00"),
                by=who,
            )
            outcomes[who.username] = "drawn"
        except LedgerError as exc:
            outcomes[who.username] = exc.code
        finally:
            connections.close_all()

    # when two nurses draw 6 mL each at the same moment
    threads = [threading.Thread(target=draw, args=(u,)) for u in (nurse, prescriber)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then exactly one draw happened and the vial never went below zero
    assert sorted(outcomes.values()) == ["draw_exceeds_balance", "drawn"], outcomes
    assert Container.objects.get(pk=vial.pk).balance_ml == Decimal("4.00")
    assert LedgerEntry.objects.filter(kind="draw").count() == 1
    assert verify_registrant(Registrant.objects.get(pk=registrant.pk)).ok
