"""Board display links (issue 15 item 4, issue 18): a wall screen without a staff sign-in."""

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Location
from neuroclinic.infusions.actions.display_links import (
    create_display_link,
    revoke_display_link,
    token_hash,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import BoardDisplayLink, InfusionSession

pytestmark = pytest.mark.django_db


def test_the_display_shows_room_state_and_initials_only(
    client: Client, session: InfusionSession, location: Location, admin: User
) -> None:
    _, raw = create_display_link(location, label="Station wall", by=admin)

    page = client.get(reverse("infusions:display", args=[raw]))
    body = page.content.decode()

    assert page.status_code == 200
    assert session.room.name in body
    assert "Checked in" in body
    patient = session.patient
    initials = (
        f"{(patient.preferred_name or patient.given_name)[0]}{patient.family_name[0]}"
    )
    assert initials.upper() in body
    assert patient.family_name not in body
    assert patient.given_name not in body
    assert patient.mrn not in body
    assert str(session.uuid) not in body  # no link into the chart
    assert "Sign out" not in body


def test_the_fragment_polls_without_a_sign_in(
    client: Client, session: InfusionSession, location: Location, admin: User
) -> None:
    _, raw = create_display_link(location, label="Station wall", by=admin)

    fragment = client.get(reverse("infusions:display_rooms", args=[raw]))

    assert fragment.status_code == 200
    assert session.room.name in fragment.content.decode()


def test_a_revoked_link_is_refused(
    client: Client, session: InfusionSession, location: Location, admin: User
) -> None:
    link, raw = create_display_link(location, label="Station wall", by=admin)
    revoke_display_link(link, by=admin)

    for name in ("infusions:display", "infusions:display_rooms"):
        refused = client.get(reverse(name, args=[raw]))
        assert refused.status_code == 410
        assert session.room.name not in refused.content.decode()


def test_an_unknown_token_is_refused(client: Client, location: Location) -> None:
    assert (
        client.get(reverse("infusions:display", args=["not-a-token"])).status_code
        == 410
    )


def test_only_the_hash_is_stored(location: Location, admin: User) -> None:
    link, raw = create_display_link(location, label="Station wall", by=admin)

    link.refresh_from_db()
    assert link.token_sha256 == token_hash(raw)
    assert raw not in str(BoardDisplayLink.objects.filter(pk=link.pk).values().get())


def test_creating_and_revoking_are_audited(location: Location, admin: User) -> None:
    link, _ = create_display_link(location, label="Station wall", by=admin)
    revoke_display_link(link, by=admin)

    events = AuditEvent.objects.filter(subject_id=str(link.uuid)).order_by("seq")
    assert [e.data["change"] for e in events] == ["created", "revoked"]
    assert all(e.actor_id == admin.pk for e in events)


@pytest.mark.parametrize("label", ["", "   ", "x" * 101])
def test_a_bad_label_writes_nothing(
    location: Location, admin: User, label: str
) -> None:
    with pytest.raises(InfusionError):
        create_display_link(location, label=label, by=admin)

    assert not BoardDisplayLink.objects.exists()
    assert not AuditEvent.objects.filter(data__kind="board_display_link").exists()


def test_revoking_twice_is_refused(location: Location, admin: User) -> None:
    link, _ = create_display_link(location, label="Station wall", by=admin)
    revoke_display_link(link, by=admin)

    with pytest.raises(InfusionError):
        revoke_display_link(link, by=admin)


def test_the_admin_creates_and_revokes_on_the_page(
    as_persona: Callable[[str], Client], location: Location, session: InfusionSession
) -> None:
    client = as_persona("admin")
    created = client.post(
        reverse("infusions:display_links"),
        {"label": "Station wall", "location": str(location.uuid)},
    )
    url = re.search(r"<code>(http[^<]+)</code>", created.content.decode())
    assert url is not None
    path = url.group(1).split("testserver", 1)[1]
    link = BoardDisplayLink.objects.get()

    revoked = client.post(reverse("infusions:revoke_display", args=[link.uuid]))

    assert revoked.status_code == 302
    assert Client().get(path).status_code == 410


@pytest.mark.parametrize("persona", ["nurse", "director", "front_desk", "auditor"])
def test_only_the_clinic_admin_manages_display_links(
    as_persona: Callable[[str], Client], persona: str, location: Location
) -> None:
    assert (
        as_persona(persona).get(reverse("infusions:display_links")).status_code == 403
    )


@pytest.mark.parametrize("location_value", ["", "not-a-uuid"])
def test_a_missing_or_bad_location_writes_nothing(
    as_persona: Callable[[str], Client], location: Location, location_value: str
) -> None:
    page = as_persona("admin").post(
        reverse("infusions:display_links"),
        {"label": "Station wall", "location": location_value},
    )

    assert page.status_code == 422
    assert "Choose a location." in page.content.decode()
    assert not BoardDisplayLink.objects.exists()
