"""One questionnaire flow: a sent link, the clinic tablet and the intake packet share the
form, the answer handling and the crisis lines shown as a risk answer is chosen."""

import re

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.measures.actions.portal_links import create_portal_link
from neuroclinic.measures.models import PortalLink, QuestionnaireResponse, SafetyAlert
from neuroclinic.measures.tests.factories import phq9
from neuroclinic.patients.models import Patient
from neuroclinic.portal.questionnaires import risk_items
from neuroclinic.portal.tests.test_portal import portal


def _link(patient: Patient, nurse: User, channel: PortalLink.Channel) -> str:
    _, token = create_portal_link(
        patient, instrument_codes=["phq9"], channel=channel, by=nurse
    )
    return token


def _risk_checks(html: str) -> dict[str, str]:
    """Item → the address its options post to as they are chosen."""
    return dict(re.findall(r'name="([\w-]+)" value="\d+" hx-post="([^"]+)"', html))


def test_only_item_9_of_the_phq9_is_checked_as_it_is_answered() -> None:
    assert risk_items("phq9") == {"phq9-9"}
    assert risk_items("gad7") == set()


def test_a_sent_link_the_tablet_and_the_packet_show_the_same_form(
    client: Client, patient: Patient, nurse: User, front_desk: User
) -> None:
    by_link = client.get(f"/q/{_link(patient, nurse, PortalLink.Channel.EMAIL)}/")
    on_tablet = Client().get(
        f"/kiosk/{_link(patient, nurse, PortalLink.Channel.KIOSK)}/"
    )
    in_packet = portal(Client(), patient, front_desk).get(
        "/portal/questionnaires/phq9/"
    )

    for response in (by_link, on_tablet, in_packet):
        html = response.content.decode()
        assert [t.name for t in response.templates][:2] == [
            "portal/questionnaire.html",
            "portal/base.html",
        ]
        assert set(_risk_checks(html)) == {"phq9-9"}
        assert '<div id="crisis-now" aria-live="assertive"></div>' in html
        assert "988" in html
    assert set(_risk_checks(by_link.content.decode()).values()) == {
        by_link.request["PATH_INFO"] + "check/"
    }
    assert set(_risk_checks(in_packet.content.decode()).values()) == {
        "/portal/questionnaires/phq9/check/"
    }
    assert "Your progress" in in_packet.content.decode()  # the signed-in navigation
    assert "Your progress" not in by_link.content.decode()


@pytest.mark.parametrize("where", ["link", "packet"])
def test_a_risk_answer_raises_one_alert_and_the_crisis_page_continues(
    client: Client, patient: Patient, nurse: User, front_desk: User, where: str
) -> None:
    if where == "link":
        page = f"/q/{_link(patient, nurse, PortalLink.Channel.EMAIL)}/"
        continue_to = None  # the link holds one questionnaire: nothing follows
    else:
        portal(client, patient, front_desk)
        page = "/portal/questionnaires/phq9/"
        continue_to = "/portal/questionnaires/"

    early = client.post(
        page + "check/", {"instrument": "phq9", "item": "phq9-9", "phq9-9": "2"}
    )
    sent = client.post(
        page,
        {"instrument": "phq9", **{k: str(v) for k, v in phq9(12, item9=2).items()}},
    )

    assert "Call or text" in early.content.decode()
    body = sent.content.decode()
    assert "press 1" in body
    assert patient.organization.crisis_message in body
    if continue_to:
        assert f'href="{continue_to}"' in body
    assert SafetyAlert.objects.filter(patient=patient).count() == 1
    assert QuestionnaireResponse.objects.get(patient=patient).source == "portal"


def test_the_tablet_asks_for_the_tablet_back_after_a_risk_answer(
    client: Client, patient: Patient, nurse: User
) -> None:
    page = f"/kiosk/{_link(patient, nurse, PortalLink.Channel.KIOSK)}/"

    sent = client.post(
        page,
        {"instrument": "phq9", **{k: str(v) for k, v in phq9(12, item9=1).items()}},
    )

    assert "press 1" in sent.content.decode()
    assert "hand the tablet back" in sent.content.decode()
    assert QuestionnaireResponse.objects.get(patient=patient).source == "kiosk"


def test_a_checked_answer_on_a_dead_link_says_nothing_and_writes_nothing(
    client: Client, patient: Patient, nurse: User
) -> None:
    response = client.post(
        "/q/not-a-token/check/", {"instrument": "phq9", "item": "phq9-9", "phq9-9": "3"}
    )

    assert response.content == b""
    assert not SafetyAlert.objects.exists()


def test_a_staff_only_questionnaire_has_no_check_in_the_packet(
    client: Client, patient: Patient, front_desk: User
) -> None:
    portal(client, patient, front_desk)

    response = client.post(
        "/portal/questionnaires/cssrs-screener/check/",
        {"instrument": "cssrs-screener", "item": "cssrs-1", "cssrs-1": "1"},
    )

    assert response.content == b""
    assert not SafetyAlert.objects.exists()
    assert not PortalLink.objects.exists()
