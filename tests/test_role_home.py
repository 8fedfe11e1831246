"""Each role lands on its own work after sign-in (issue 18 item 2)."""

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client

from neuroclinic.clinics.models import Organization
from neuroclinic.intake.models import ConsultRequest

pytestmark = pytest.mark.django_db

# persona -> work items its home must show (data-work keys) and the link they open
EXPECTED = [
    (
        "nurse",
        ["infusing", "recovery", "checked_in", "notes_to_sign"],
        "/infusions/board/",
    ),
    (
        "prescriber",
        ["alerts_mine", "alerts_open", "cosign", "boosters"],
        "/measures/alerts/",
    ),
    ("front_desk", ["expected", "arrived", "consults", "intake"], "/schedule/"),
    ("custodian", ["ledger", "discrepancies"], "/ledger/"),
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
    assert "work-item--urgent" in page.split('data-work="consults"')[0][-80:]
    assert "Asker0" not in page  # counts only, no names
