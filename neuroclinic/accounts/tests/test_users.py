"""Managing staff accounts (clinic admins only), and changing one's own password."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from conftest import (
    EVERYONE,
    NON_ADMINS,
    TEST_PASSWORD,
    assert_sent_to_sign_in,
    expected_status,
    login,
    make_staff,
)
from neuroclinic.accounts import actions
from neuroclinic.accounts.models import (
    Authenticator,
    RecoveryCode,
    RecoveryCodeSet,
    User,
)
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization

Action = AuditEvent.Action


@pytest.fixture
def member(organization: Organization) -> User:
    """A front-desk colleague at Lakeside, the admin's to manage."""
    user = make_staff(organization, "member", Role.FRONT_DESK)
    Authenticator.objects.create(user=user, name="Phone", confirmed=True)
    return user


def roles_of(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def user_form_data(user: User, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "title": user.title,
        "roles": sorted(g.name for g in user.groups.all()),
        "is_active": "on" if user.is_active else "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


# Who may manage staff


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize(
    "path", ["/accounts/staff/", "/accounts/staff/new/", "/accounts/staff/{member}/"]
)
def test_only_clinic_admins_open_the_staff_pages(
    as_persona: Callable[[str], Client],
    member: User,
    persona: str,
    path: str,
) -> None:
    client = as_persona(persona)

    response = client.get(path.format(member=member.uuid))

    assert response.status_code == expected_status(persona, {"admin"})
    if persona == "anonymous":
        assert_sent_to_sign_in(response)


@pytest.mark.parametrize("persona", ["anonymous", *NON_ADMINS])
def test_only_clinic_admins_create_staff_and_a_refusal_writes_nothing(
    as_persona: Callable[[str], Client], organization: Organization, persona: str
) -> None:
    client = as_persona(persona)
    users_before = User.objects.count()

    response = client.post(
        "/accounts/staff/new/",
        {
            "username": "intruder",
            "first_name": "In",
            "last_name": "Truder",
            "roles": [Role.CLINIC_ADMIN.value],
            "password": "a-sufficiently-long-passphrase",
        },
    )

    assert response.status_code == expected_status(persona, set())
    assert User.objects.count() == users_before
    assert not User.objects.filter(username="intruder").exists()
    assert events(Action.USER_CREATED) == []


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_clinic_admins_reset_two_factor(
    as_persona: Callable[[str], Client],
    member: User,
    persona: str,
) -> None:
    client = as_persona(persona)

    response = client.post(f"/accounts/staff/{member.uuid}/reset-two-factor/")

    # A done reset redirects to the member's page, as a refusal sends anonymous to sign-in.
    assert response.status_code == expected_status(persona, {"admin"}, ok=302)
    reset = persona == "admin"
    assert Authenticator.objects.filter(user=member).exists() is not reset
    assert len(events(Action.TWO_FACTOR_RESET)) == (1 if reset else 0)


@pytest.mark.parametrize("persona", ["anonymous", *NON_ADMINS])
def test_only_clinic_admins_edit_staff_and_a_refusal_changes_nothing(
    as_persona: Callable[[str], Client], member: User, persona: str
) -> None:
    client = as_persona(persona)

    response = client.post(
        f"/accounts/staff/{member.uuid}/",
        user_form_data(member, roles=[Role.CLINIC_ADMIN.value], title="Boss"),
    )

    assert response.status_code == expected_status(persona, set())
    member.refresh_from_db()
    assert member.title == ""
    assert roles_of(member) == {Role.FRONT_DESK.value}
    assert events(Action.ROLES_CHANGED) == []
    assert events(Action.USER_UPDATED) == []


# The staff list


def test_the_staff_list_shows_only_this_organizations_staff(
    client: Client, admin: User, member: User, outsider: User
) -> None:
    login(client, admin)

    response = client.get("/accounts/staff/")

    listed = {u.username for u in response.context["users"]}
    assert listed == {"admin", "member"}
    assert "outsider" not in response.content.decode()


def test_the_staff_list_costs_the_same_queries_however_many_staff(
    client: Client,
    admin: User,
    organization: Organization,
    django_assert_num_queries: Callable[[int], Any],
) -> None:
    login(client, admin)
    client.get("/accounts/staff/")  # the first request after sign-in warms the session
    with django_assert_num_queries(11):
        client.get("/accounts/staff/")
    for n in range(5):
        make_staff(organization, f"extra{n}", Role.NURSE)

    with django_assert_num_queries(11):
        response = client.get("/accounts/staff/")

    assert len(response.context["users"]) == 6


# Creating staff


def test_an_admin_creates_a_user_with_roles_in_their_organization(
    client: Client, admin: User
) -> None:
    login(client, admin)

    response = client.post(
        "/accounts/staff/new/",
        {
            "username": "newnurse",
            "first_name": "Nadia",
            "last_name": "Newcomb",
            "email": "nadia@example.com",
            "title": "RN",
            "roles": [Role.NURSE.value, Role.TMS_TECHNICIAN.value],
            "password": "a-sufficiently-long-passphrase",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/staff/"
    created = User.objects.get(username="newnurse")
    assert created.organization_id == admin.organization_id
    assert (created.first_name, created.last_name, created.title) == (
        "Nadia",
        "Newcomb",
        "RN",
    )
    assert created.check_password("a-sufficiently-long-passphrase")
    assert roles_of(created) == {"nurse", "tms_technician"}
    assert not Authenticator.objects.filter(user=created).exists()  # enrols at sign-in
    event = AuditEvent.objects.get(action=Action.USER_CREATED)
    assert event.actor == admin
    assert event.subject_id == str(created.uuid)
    assert event.data == {"username": "newnurse", "roles": ["nurse", "tms_technician"]}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "member"}, "username"),  # taken
        ({"username": "Not Valid!"}, "username"),
        ({"username": "x"}, "username"),  # too short
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),  # common
        ({"password": "8675309123"}, "password"),  # numeric
        ({"roles": []}, "roles"),
        ({"roles": ["superuser"]}, "roles"),
    ],
)
def test_invalid_new_staff_is_a_field_error_and_writes_nothing(
    client: Client, admin: User, member: User, overrides: dict[str, Any], field: str
) -> None:
    login(client, admin)
    users_before = User.objects.count()
    data: dict[str, Any] = {
        "username": "newnurse",
        "first_name": "Nadia",
        "last_name": "Newcomb",
        "roles": [Role.NURSE.value],
        "password": "a-sufficiently-long-passphrase",
    } | overrides

    response = client.post("/accounts/staff/new/", data)

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert User.objects.count() == users_before
    assert not User.objects.filter(username="newnurse").exists()
    assert events(Action.USER_CREATED) == []


# Editing staff


def test_changing_roles_records_the_old_and_new_roles(
    client: Client, admin: User, member: User
) -> None:
    login(client, admin)

    response = client.post(
        f"/accounts/staff/{member.uuid}/",
        user_form_data(member, roles=[Role.FRONT_DESK.value, Role.BILLING.value]),
    )

    assert response.status_code == 302
    assert roles_of(member) == {"front_desk", "billing"}
    event = AuditEvent.objects.get(action=Action.ROLES_CHANGED)
    assert event.actor == admin
    assert event.subject_id == str(member.uuid)
    assert event.data == {"old": ["front_desk"], "new": ["billing", "front_desk"]}
    assert events(Action.USER_UPDATED) == []


def test_changing_details_records_each_changed_field(
    client: Client, admin: User, member: User
) -> None:
    login(client, admin)

    client.post(
        f"/accounts/staff/{member.uuid}/",
        user_form_data(member, title="CMA", email="member@example.com"),
    )

    member.refresh_from_db()
    assert (member.title, member.email) == ("CMA", "member@example.com")
    event = AuditEvent.objects.get(action=Action.USER_UPDATED)
    assert event.actor == admin
    assert event.data == {
        "changes": {
            "email": {"old": "", "new": "member@example.com"},
            "title": {"old": "", "new": "CMA"},
        }
    }
    assert events(Action.ROLES_CHANGED) == []


def test_saving_without_changes_records_nothing(
    client: Client, admin: User, member: User
) -> None:
    login(client, admin)
    audit_rows = AuditEvent.objects.count()

    response = client.post(f"/accounts/staff/{member.uuid}/", user_form_data(member))

    assert response.status_code == 302
    assert AuditEvent.objects.count() == audit_rows


def test_deactivating_a_member_signs_them_out_and_removes_their_capabilities(
    admin: User, member: User
) -> None:
    admin_client = login(Client(), admin)
    member_client = login(Client(), member)
    assert member_client.get("/staff/").status_code == 200

    admin_client.post(
        f"/accounts/staff/{member.uuid}/", user_form_data(member, is_active="")
    )

    member.refresh_from_db()
    assert member.is_active is False
    assert member.capabilities == frozenset()
    assert member_client.get("/staff/").status_code == 302
    event = AuditEvent.objects.get(action=Action.USER_UPDATED)
    assert event.data == {"changes": {"is_active": {"old": True, "new": False}}}


def test_an_admin_cannot_deactivate_themself(client: Client, admin: User) -> None:
    login(client, admin)

    response = client.post(
        f"/accounts/staff/{admin.uuid}/", user_form_data(admin, is_active="")
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["is_active"]
    admin.refresh_from_db()
    assert admin.is_active is True
    assert events(Action.USER_UPDATED) == []
    assert events(Action.ROLES_CHANGED) == []


def test_an_admin_cannot_drop_their_own_admin_role(client: Client, admin: User) -> None:
    login(client, admin)

    response = client.post(
        f"/accounts/staff/{admin.uuid}/",
        user_form_data(admin, roles=[Role.NURSE.value], title="Changed"),
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["roles"]
    assert roles_of(admin) == {Role.CLINIC_ADMIN.value}
    admin.refresh_from_db()
    assert admin.title == ""
    assert events(Action.ROLES_CHANGED) == []
    assert events(Action.USER_UPDATED) == []


def test_an_admin_may_add_a_role_to_themself(client: Client, admin: User) -> None:
    login(client, admin)

    client.post(
        f"/accounts/staff/{admin.uuid}/",
        user_form_data(admin, roles=[Role.CLINIC_ADMIN.value, Role.BILLING.value]),
    )

    assert roles_of(admin) == {"clinic_admin", "billing"}
    assert AuditEvent.objects.get(action=Action.ROLES_CHANGED).data == {
        "old": ["clinic_admin"],
        "new": ["billing", "clinic_admin"],
    }


def test_a_user_of_another_organization_is_not_found(
    client: Client, admin: User, outsider: User
) -> None:
    Authenticator.objects.create(user=outsider, name="Phone", confirmed=True)
    login(client, admin)

    shown = client.get(f"/accounts/staff/{outsider.uuid}/")
    edited = client.post(
        f"/accounts/staff/{outsider.uuid}/",
        user_form_data(outsider, roles=[Role.CLINIC_ADMIN.value], is_active=""),
    )
    reset = client.post(f"/accounts/staff/{outsider.uuid}/reset-two-factor/")

    assert (shown.status_code, edited.status_code, reset.status_code) == (404, 404, 404)
    outsider.refresh_from_db()
    assert outsider.is_active is True
    assert roles_of(outsider) == {Role.NURSE.value}
    assert Authenticator.objects.filter(user=outsider).exists()
    assert events(Action.USER_UPDATED) == []
    assert events(Action.ROLES_CHANGED) == []
    assert events(Action.TWO_FACTOR_RESET) == []


def test_resetting_two_factor_deletes_the_devices_and_they_enrol_again(
    client: Client, admin: User, member: User
) -> None:
    actions.confirm_totp_enrolment(
        member, Authenticator.objects.create(user=member, name="New phone")
    )
    assert RecoveryCode.objects.filter(code_set__user=member).count() == 10
    login(client, admin)

    response = client.post(f"/accounts/staff/{member.uuid}/reset-two-factor/")

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/staff/{member.uuid}/"
    assert not Authenticator.objects.filter(user=member).exists()
    assert not RecoveryCodeSet.objects.filter(user=member).exists()
    assert not RecoveryCode.objects.filter(code_set__user=member).exists()
    event = AuditEvent.objects.get(action=Action.TWO_FACTOR_RESET)
    assert event.actor == admin
    assert event.subject_id == str(member.uuid)

    # At their next sign-in they are asked to set up an authenticator again.
    their_client = Client()
    their_client.post(
        "/accounts/sign-in/", {"username": "member", "password": TEST_PASSWORD}
    )
    enrol = their_client.get("/accounts/sign-in/code/")
    assert "accounts/enrol.html" in [t.name for t in enrol.templates]


def test_reset_two_factor_needs_a_post(
    client: Client, admin: User, member: User
) -> None:
    login(client, admin)

    response = client.get(f"/accounts/staff/{member.uuid}/reset-two-factor/")

    assert response.status_code == 405
    assert Authenticator.objects.filter(user=member).exists()
    assert events(Action.TWO_FACTOR_RESET) == []


def test_new_users_get_exactly_the_groups_chosen(db: None, admin: User) -> None:
    created = actions.create_user(
        username="solo",
        first_name="So",
        last_name="Lo",
        email="",
        title="",
        roles=[Role.AUDITOR, Role.AUDITOR],
        password=TEST_PASSWORD,
        by=admin,
    )

    assert list(created.groups.all()) == [Group.objects.get(name="auditor")]
    assert created.roles == frozenset({Role.AUDITOR})


# Changing one's own password

NEW_PASSWORD = "a-new-and-longer-passphrase"


def password_form(current: str, new: str, confirm: str | None = None) -> dict[str, str]:
    return {
        "current_password": current,
        "new_password": new,
        "confirm_password": new if confirm is None else confirm,
    }


def test_changing_password_records_it_and_keeps_the_session_signed_in(
    client: Client, nurse: User
) -> None:
    login(client, nurse)

    response = client.post(
        "/accounts/password/", password_form(TEST_PASSWORD, NEW_PASSWORD)
    )

    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    nurse.refresh_from_db()
    assert nurse.check_password(NEW_PASSWORD)
    assert not nurse.check_password(TEST_PASSWORD)
    assert client.get("/staff/").status_code == 200  # still signed in, still verified
    event = AuditEvent.objects.get(action=Action.PASSWORD_CHANGED)
    assert event.actor == nurse
    assert NEW_PASSWORD not in str(event.data)


def test_changing_password_signs_out_other_sessions(nurse: User) -> None:
    here = login(Client(), nurse)
    elsewhere = login(Client(), nurse)

    here.post("/accounts/password/", password_form(TEST_PASSWORD, NEW_PASSWORD))

    assert here.get("/staff/").status_code == 200
    assert elsewhere.get("/staff/").status_code == 302


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (password_form("not-my-password", NEW_PASSWORD), "current_password"),
        (
            password_form(TEST_PASSWORD, NEW_PASSWORD, "a-different-passphrase"),
            "confirm_password",
        ),
        (password_form(TEST_PASSWORD, "short"), "new_password"),
        (password_form(TEST_PASSWORD, "password123"), "new_password"),
        (password_form(TEST_PASSWORD, "8675309123"), "new_password"),
        (
            password_form(TEST_PASSWORD, "tester1234"),
            "new_password",
        ),  # like her surname
    ],
)
def test_a_refused_password_change_is_a_field_error_and_changes_nothing(
    client: Client, nurse: User, form: dict[str, str], field: str
) -> None:
    login(client, nurse)
    old_hash = nurse.password

    response = client.post("/accounts/password/", form)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    nurse.refresh_from_db()
    assert nurse.password == old_hash
    assert events(Action.PASSWORD_CHANGED) == []


def test_changing_password_needs_a_signed_in_session(
    client: Client, nurse: User
) -> None:
    client.force_login(nurse)  # a password-only session does not count

    response = client.post(
        "/accounts/password/", password_form(TEST_PASSWORD, NEW_PASSWORD)
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")
    nurse.refresh_from_db()
    assert nurse.check_password(TEST_PASSWORD)
    assert events(Action.PASSWORD_CHANGED) == []
