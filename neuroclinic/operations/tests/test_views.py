"""The operations page: the clinic admin sees failures and retries them; nobody else gets in."""

from collections.abc import Callable

import pytest
from django.tasks import TaskResultStatus
from django.test import Client
from django_tasks_db.models import DBTaskResult
from pytest_django import DjangoAssertNumQueries

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.operations.schedule import PERIODIC_JOBS
from neuroclinic.operations.tests.tasks import Flaky, always_fails

pytestmark = pytest.mark.django_db


def _failed_task() -> DBTaskResult:  # type: ignore[type-arg]
    result = always_fails.enqueue()
    row = DBTaskResult.objects.get(pk=result.id)
    row.worker_ids = ["w1", "w2", "w3", "w4", "w5"]
    row.save(update_fields=["worker_ids"])
    row.set_failed(Flaky("patient Testova's export broke"))
    return row


def test_the_admin_sees_a_failed_task_by_name_and_error_class_only(
    client: Client, admin: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    _failed_task()
    login(client, admin)

    # One indexed look per periodic job (operations/views.py), plus the page's own.
    with django_assert_num_queries(14 + len(PERIODIC_JOBS)):
        page = client.get("/operations/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "operations: always_fails" in text
    assert "Flaky" in text
    assert "Testova" not in text  # the message and traceback can name patients
    assert "No worker is running" in text
    assert "Nightly backups are off" in text


def test_retrying_a_failed_task_queues_it_again_and_is_audited(
    client: Client, admin: User
) -> None:
    row = _failed_task()
    login(client, admin)

    response = client.post(f"/operations/tasks/{row.id}/retry/")

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == TaskResultStatus.READY
    assert row.worker_ids == []
    event = AuditEvent.objects.get(action=AuditEvent.Action.TASK_RETRIED)
    assert event.actor == admin
    assert event.data["task"].endswith("always_fails")


def test_a_task_that_has_not_failed_is_not_retried(client: Client, admin: User) -> None:
    result = always_fails.enqueue()
    login(client, admin)

    client.post(f"/operations/tasks/{result.id}/retry/")

    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TASK_RETRIED).exists()
    assert DBTaskResult.objects.get(pk=result.id).worker_ids == []


@pytest.mark.parametrize("persona", ["nurse", "director", "auditor", "custodian"])
def test_other_roles_are_refused_and_change_nothing(
    client: Client, staff: Callable[[str], User], persona: str
) -> None:
    row = _failed_task()
    login(client, staff(persona))

    assert client.get("/operations/").status_code == 403
    assert client.post(f"/operations/tasks/{row.id}/retry/").status_code == 403
    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get("/operations/")

    assert response.status_code == 302
    assert "/accounts/" in response["Location"]
