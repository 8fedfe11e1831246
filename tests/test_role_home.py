"""Each role lands on its own work after sign-in (issue 18 item 2)."""

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Device, Organization
from neuroclinic.clinics.time_zone import clinic_zone_name
from neuroclinic.infusions.actions import monitoring
from neuroclinic.infusions.models import InfusionSession, VitalReading
from neuroclinic.infusions.tests.conftest import (  # noqa: F401 - fixtures
    dosed,
    location,
    monitor,
    plan,
    ready,
    room,
    running,
    session,
    vials,
)
from neuroclinic.infusions.tests.factories import reading
from neuroclinic.intake.models import ConsultRequest, IntakePacket
from neuroclinic.ledger.checks import run_check
from neuroclinic.ledger.models import LedgerCheck
from neuroclinic.ledger.tests.factories import make_registrant
from neuroclinic.outcomes.models import BoosterSuggestion
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.tests import factories as treatment_factories
from neuroclinic.views import _vitals_due

pytestmark = pytest.mark.django_db

# persona -> work items its home must show (data-work keys) and the link they open
EXPECTED = [
    (
        "nurse",
        ["infusing", "recovery", "checked_in", "vitals_due", "notes_to_sign"],
        "/infusions/board/",
    ),
    (
        "prescriber",
        ["alerts_mine", "alerts_open", "cosign", "eligibility", "boosters"],
        "/measures/alerts/",
    ),
    ("front_desk", ["expected", "arrived", "consults", "intake"], "/schedule/"),
    (
        "custodian",
        ["ledger", "discrepancies", "dea_tasks", "last_count", "last_verify"],
        "/ledger/",
    ),
    ("billing", ["billing", "aging", "day_end"], "/billing/"),
    ("tms", ["tms_today", "tms_running"], "/tms/"),
    ("auditor", ["audit"], "/audit/"),
]


@pytest.mark.parametrize(("persona", "keys", "link"), EXPECTED)
def test_each_role_home_shows_its_work_items(
    as_persona: Callable[[str], Client], persona: str, keys: list[str], link: str
) -> None:
    page = as_persona(persona).get("/staff/").content.decode()

    for key in keys:
        assert f'data-work="{key}"' in page, key
    assert f'href="{link}' in page


def test_the_director_sees_the_clinic_at_a_glance(
    as_persona: Callable[[str], Client],
) -> None:
    page = as_persona("director").get("/staff/").content.decode()

    for key in ["alerts_open", "cosign", "infusing", "discrepancies"]:
        assert f'data-work="{key}"' in page, key


def test_the_director_reaches_every_rule_they_own_from_home(
    as_persona: Callable[[str], Client],
) -> None:
    client = as_persona("director")
    page = client.get("/staff/").content.decode()

    for key, link in [
        ("outcomes", "/outcomes/dashboard/"),
        ("quality", "/outcomes/quality/"),
        ("booster_rules", "/outcomes/rules/"),
        ("tms_protocols", "/tms/protocols/"),
        ("em_rules", "/billing/setup/em-rules/"),
    ]:
        assert f'data-work="{key}"' in page, key
        assert f'href="{link}"' in page, link
        assert client.get(link).status_code == 200, link


def test_sign_in_lands_on_the_role_home() -> None:
    assert settings.LOGIN_REDIRECT_URL == "home"


def test_the_front_desk_count_is_the_clinic_s_new_consult_requests(
    as_persona: Callable[[str], Client], organization: Organization
) -> None:
    for n in range(3):
        ConsultRequest.objects.create(
            organization=organization,
            given_name=f"Asker{n}",
            family_name="Tester",
            email=f"asker{n}@example.com",
            phone="555-0100",
        )
    page = as_persona("front_desk").get("/staff/").content.decode()

    item = page.split('data-work="consults"')[1].split("</li>")[0]
    assert '<span class="work-count">3</span>' in item
    assert "New consult requests, oldest today" in item
    # By age: the oldest one waiting is named.
    ConsultRequest.objects.filter(given_name="Asker0").update(
        created_at=timezone.now() - timedelta(days=3)
    )
    page = as_persona("front_desk").get("/staff/").content.decode()
    item = page.split('data-work="consults"')[1].split("</li>")[0]
    assert "New consult requests, oldest waiting 3 days" in item
    assert "work-item--urgent" in page.split('data-work="consults"')[0][-80:]
    assert "Asker0" not in page  # counts only, no names


def test_the_prescriber_sees_eligibility_reviews_and_boosters_due(
    as_persona: Callable[[str], Client],
    organization: Organization,
    patient: Patient,
    prescriber: User,
    director: User,
) -> None:
    """Counts for the prescriber's inbox: packets submitted and not yet decided, and open
    booster suggestions due today or earlier (not those still ahead)."""

    def count(key: str) -> str:
        page = as_persona("prescriber").get("/staff/").content.decode()
        item = page.split(f'data-work="{key}"')[1].split("</li>")[0]
        return item.split('<span class="work-count">')[1].split("<")[0]

    submitted = timezone.now() - timedelta(hours=1)
    IntakePacket.objects.create(
        organization=organization, patient=patient, submitted_at=submitted
    )
    assert count("eligibility") == "1"
    treatment_factories.ready_for_treatment(patient, prescriber)  # signs a decision now
    assert count("eligibility") == "0"

    booster_plan = treatment_factories.make_plan(patient, prescriber, director)
    today = timezone.localdate()
    suggestion = BoosterSuggestion.objects.create(
        organization=organization,
        patient=patient,
        plan=booster_plan,
        due_on=today + timedelta(days=5),
        urgency_when_made="due_soon",
        basis=[],
        rules_version=0,
        rules={},
        last_infusion_on=today - timedelta(days=30),
        made_at=timezone.now(),
    )
    assert count("boosters") == "0"
    BoosterSuggestion.objects.filter(pk=suggestion.pk).update(due_on=today)
    assert count("boosters") == "1"


def test_the_work_items_refresh_by_polling_that_is_not_activity(
    as_persona: Callable[[str], Client],
) -> None:
    client = as_persona("nurse")
    home = client.get("/staff/").content.decode()
    assert 'hx-get="/staff/work/"' in home
    part = client.get("/staff/work/", headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert 'data-work="infusing"' in part.content.decode()
    assert "<html" not in part.content.decode()
    # No room is in use in this clinic: no empty "Rooms in use" panel.
    assert "Rooms in use" not in part.content.decode()
    # Marked as a polled view: the idle sign-out middleware does not count it.
    match = resolve("/staff/work/")
    assert getattr(match.func, "polled", False) is True


def test_the_work_items_need_a_signed_in_staff_member(client: Client) -> None:
    assert client.get("/staff/work/").status_code == 302


def test_the_custodian_sees_the_last_chain_check_and_a_failed_one_first(
    as_persona: Callable[[str], Client], organization: Organization, custodian: User
) -> None:
    """Issue 18 item 2: "last verify" on the custodian's home, from the stored checks."""

    def item() -> str:
        page = as_persona("custodian").get("/staff/").content.decode()
        before, after = page.split('data-work="last_verify"')
        return before[-60:] + after.split("</li>")[0]

    assert "No DEA registration set up" in item()
    registrant = make_registrant(organization, by=custodian)
    assert "Ledger chain not checked yet" in item()
    assert "work-item--urgent" in item()

    run_check(registrant, source=LedgerCheck.Source.WEB, notify=False)
    check = LedgerCheck.objects.get()
    # In the clinic's zone, as every staff page shows times (issue 18 item 7).
    when = check.ran_at.astimezone(ZoneInfo(clinic_zone_name(organization.pk)))
    assert f"Ledger chain intact, checked {when:%Y-%m-%d %H:%M}" in item()
    assert "work-item--urgent" not in item()
    assert 'href="/ledger/reports/"' in item()

    LedgerCheck.objects.create(
        organization=organization,
        registrant=registrant,
        ran_at=timezone.now() + timedelta(minutes=1),
        source=LedgerCheck.Source.NIGHTLY,
        ok=False,
        entries_checked=1,
        first_bad_seq=1,
        problem="hash mismatch",
        head_seq=check.head_seq,
        head_hash=check.head_hash,
    )
    assert "Ledger chain check FAILED" in item()
    assert "work-item--urgent" in item()


def test_the_nurse_sees_vital_signs_due_by_the_protocol_interval(
    running: InfusionSession,  # noqa: F811 - the infusion day's fixture
    monitor: Device,  # noqa: F811
    as_persona: Callable[[str], Client],
) -> None:
    assert running.started_at is not None
    sessions = InfusionSession.objects.filter(pk=running.pk)
    started = running.started_at
    # Every 10 minutes while infusing (the protocol's default): from the start until
    # the first reading, then from the newest reading.
    assert _vitals_due(sessions, started + timedelta(minutes=9)) == 0
    assert _vitals_due(sessions, started + timedelta(minutes=10)) == 1
    monitoring.ingest_readings(
        running,
        [reading(started + timedelta(minutes=1), monitor)],
        source=VitalReading.Source.MONITOR,
        by=None,
    )
    assert _vitals_due(sessions, started + timedelta(minutes=10)) == 0
    assert _vitals_due(sessions, started + timedelta(minutes=11)) == 1

    page = as_persona("nurse").get("/staff/").content.decode()
    assert 'data-work="vitals_due"' in page
    # The room and its state, with no patient named, in a panel of rooms (not among
    # the counts, where "Infusion 1" read as a number).
    rooms = page.split("Rooms in use</h2>", 1)
    assert len(rooms) == 2
    assert "Infusion 1: infusing" in rooms[1]
    assert "Infusion 1: infusing" not in rooms[0]
    assert running.patient.family_name not in page
