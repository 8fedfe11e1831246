"""Issue 9: ways into the batch planner, a command and an API operation, with access
through scheduling/access.py and bad input refused (CLI non-zero exit, 422 naming the
field) with nothing written."""

from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Location
from neuroclinic.scheduling.models import Appointment, Series
from neuroclinic.scheduling.rules import INDUCTION_SPACING, check_series
from neuroclinic.scheduling.tests.conftest import MONDAY
from neuroclinic.scheduling.tests.test_batch_proposals import plans  # noqa: F401
from neuroclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db

LATEST = MONDAY + timedelta(days=6)


def _command(**options: Any) -> str:
    out = StringIO()
    call_command(
        "propose_batch",
        **{
            "start": MONDAY.isoformat(),
            "latest_start": LATEST.isoformat(),
            "time_limit": 10.0,
            "workers": 1,
        }
        | options,
        stdout=out,
    )
    return out.getvalue()


def test_the_command_proposes_for_every_waiting_patient_and_books(
    plans: list[TreatmentPlan],  # noqa: F811
    clinic: Location,
    front_desk: User,
) -> None:
    shown = _command(by=front_desk.username, location=str(clinic.uuid))
    assert shown.startswith("3 patient(s), status optimal")
    for plan in plans:
        assert str(plan.patient.uuid) in shown
        # No names in the command's output (it may land in a log).
        assert plan.patient.family_name not in shown
    assert not Appointment.objects.exists()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CALENDAR_VIEWED,
        actor=front_desk,
        data__via="command_batch_proposal",
    ).exists()

    shown = _command(
        by=front_desk.username,
        location=clinic.name,
        book=True,
        preferred_time=["10:00"],
    )
    assert shown.count(": booked") == 3
    assert Series.objects.count() == 3
    for plan in plans:
        days = [
            a.starts_at.date()
            for a in Appointment.objects.filter(
                plan=plan, appointment_type__code="infusion"
            )
        ]
        assert len(days) == 6
        assert not check_series(days, INDUCTION_SPACING)
    # Booked: nobody is waiting any more.
    with pytest.raises(CommandError, match="No patient is waiting"):
        _command(by=front_desk.username, location=str(clinic.uuid))


def test_the_command_takes_named_patients(
    plans: list[TreatmentPlan],  # noqa: F811
    clinic: Location,
    front_desk: User,
) -> None:
    shown = _command(
        by=front_desk.username,
        location=str(clinic.uuid),
        patient=[str(plans[1].patient.uuid)],
    )
    assert shown.startswith("1 patient(s)")
    assert str(plans[1].patient.uuid) in shown
    assert str(plans[0].patient.uuid) not in shown


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"by": "nobody"}, "No active clinic staff user"),
        ({"by": "@billing"}, "may not book visits"),
        ({"location": "Nowhere"}, "No active location"),
        ({"start": "2031-02-30"}, "is not a date"),
        ({"latest_start": (MONDAY - timedelta(days=1)).isoformat()}, "latest_start"),
        ({"start": "2020-01-06", "latest_start": "2020-01-10"}, "today or a later"),
        ({"latest_start": (MONDAY + timedelta(days=90)).isoformat()}, "at most 63"),
        ({"patient": ["not-a-uuid"]}, "not a patient UUID"),
        (
            {"patient": ["00000000-0000-0000-0000-000000000000"]},
            "no patient of this clinic waiting",
        ),
        ({"preferred_time": ["25:00"]}, "is not a time"),
        ({"time_limit": 0.0}, "--time-limit"),
    ],
)
def test_bad_command_input_exits_non_zero_and_writes_nothing(
    plans: list[TreatmentPlan],  # noqa: F811
    clinic: Location,
    front_desk: User,
    billing: User,
    change: dict[str, Any],
    says: str,
) -> None:
    options: dict[str, Any] = {"by": front_desk.username, "location": str(clinic.uuid)}
    options |= change
    if options["by"] == "@billing":
        options["by"] = billing.username
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=says):
        _command(book=True, **options)
    assert not Appointment.objects.exists()
    assert AuditEvent.objects.count() == before


def test_the_command_is_on_the_neuroclinic_cli(
    plans: list[TreatmentPlan],  # noqa: F811
    clinic: Location,
    front_desk: User,
) -> None:
    # A bad request through the real entry point: a non-zero exit and the message.
    from django.core.management import ManagementUtility

    utility = ManagementUtility(
        ["neuroclinic", "propose_batch", "--by", front_desk.username]
    )
    with pytest.raises(SystemExit) as exited:
        utility.execute()
    assert exited.value.code != 0


# The API ---------------------------------------------------------------------------


def _propose(
    client: Client, auth: dict[str, str], clinic: Location, **body: Any
) -> Any:
    return client.post(
        "/api/scheduling/batch/proposals",
        {
            "location": str(clinic.uuid),
            "start": MONDAY.isoformat(),
            "latest_start": LATEST.isoformat(),
            "time_limit_s": 10,
        }
        | body,
        content_type="application/json",
        headers=auth,
    )


def test_the_api_proposes_and_each_series_books_through_the_series_operation(
    client: Client,
    bearer: Callable[[User], dict[str, str]],
    plans: list[TreatmentPlan],  # noqa: F811
    clinic: Location,
    front_desk: User,
) -> None:
    auth = bearer(front_desk)
    response = _propose(
        client,
        auth,
        clinic,
        patients=[str(plans[0].patient.uuid), str(plans[2].patient.uuid)],
        preferred_times=["10:00"],
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "optimal"
    assert body["unplaced"] == []
    assert {s["patient"] for s in body["series"]} == {
        str(plans[0].patient.uuid),
        str(plans[2].patient.uuid),
    }
    assert not Appointment.objects.exists()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CALENDAR_VIEWED, data__via="api_batch_proposal"
    ).exists()
    for proposed in body["series"]:
        assert len(proposed["visits"]) == 6
        booked = client.post(
            "/api/scheduling/series",
            {
                "patient": proposed["patient"],
                "location": str(clinic.uuid),
                "starts": [v["starts_at"] for v in proposed["visits"]],
            },
            content_type="application/json",
            headers=auth,
        )
        assert booked.status_code == 201, booked.content
    # Without a list: the one patient still waiting.
    rest = _propose(client, auth, clinic).json()
    assert [s["patient"] for s in rest["series"]] == [str(plans[1].patient.uuid)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"patients": ["00000000-0000-0000-0000-000000000000"]}, "patients"),
        ({"latest_start": (MONDAY - timedelta(days=1)).isoformat()}, "latest_start"),
        ({"start": "2020-01-06", "latest_start": "2020-01-08"}, "start"),
        ({"location": "00000000-0000-0000-0000-000000000000"}, "location"),
        ({"time_limit_s": 0}, "time_limit_s"),
        ({"start": "not a day"}, "start"),
    ],
)
def test_bad_api_input_is_a_422_naming_the_field(
    client: Client,
    bearer: Callable[[User], dict[str, str]],
    plans: list[TreatmentPlan],  # noqa: F811
    clinic: Location,
    front_desk: User,
    body: dict[str, Any],
    field: str,
) -> None:
    before = AuditEvent.objects.filter(action=AuditEvent.Action.CALENDAR_VIEWED).count()
    response = _propose(client, bearer(front_desk), clinic, **body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"][0]["field"]
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.CALENDAR_VIEWED).count()
        == before
    )


@pytest.mark.parametrize(
    ("persona", "status"),
    [("front_desk", 200), ("nurse", 200), ("billing", 403), ("auditor", 403)],
)
def test_only_those_who_book_visits_may_propose(
    client: Client,
    bearer: Callable[[User], dict[str, str]],
    plans: list[TreatmentPlan],  # noqa: F811
    clinic: Location,
    request: pytest.FixtureRequest,
    persona: str,
    status: int,
) -> None:
    user = request.getfixturevalue(persona)
    response = _propose(
        client, bearer(user), clinic, patients=[str(plans[0].patient.uuid)]
    )
    assert response.status_code == status, response.content
