"""TMS records are sealed (issue #15 item 1): an edit made in the database outside the
application is named by `verify_seals`."""

import pytest
from django.db import connection

from neuroclinic.audit.seals import verify_seals
from neuroclinic.tms.models import TmsSession

pytestmark = pytest.mark.django_db


def test_a_session_changed_in_the_database_is_caught(open_session: TmsSession) -> None:
    assert verify_seals() == []

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tms_tmssession SET number = number + 1 WHERE id = %s",
            [open_session.pk],
        )

    problems = verify_seals()
    assert [(p.model, p.object_id) for p in problems] == [
        ("tms.tmssession", str(open_session.pk))
    ]
