"""Roles are Groups, and what each may do is the table in roles.py."""

import pytest
from django.contrib.auth.models import Group

from conftest import make_staff
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import (
    ROLE_CAPABILITIES,
    Capability,
    Role,
    capabilities_of,
)
from neuroclinic.clinics.models import Organization

WRITE_CAPABILITIES = {
    Capability.REGISTER_PATIENT,
    Capability.EDIT_DEMOGRAPHICS,
    Capability.EDIT_CLINICAL_LISTS,
    Capability.MANAGE_USERS,
    Capability.MANAGE_CLINIC,
}


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_group_after_migrations(db: None, role: Role) -> None:
    assert Group.objects.filter(name=role.value).exists()


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_label_and_a_row_in_the_table(role: Role) -> None:
    assert role.label
    assert role in ROLE_CAPABILITIES


def test_no_roles_give_no_capabilities() -> None:
    assert capabilities_of(set()) == frozenset()


def test_several_roles_give_the_union_of_their_capabilities() -> None:
    combined = capabilities_of({Role.FRONT_DESK, Role.AUDITOR})

    assert (
        combined == ROLE_CAPABILITIES[Role.FRONT_DESK] | ROLE_CAPABILITIES[Role.AUDITOR]
    )
    assert Capability.REGISTER_PATIENT in combined  # from front desk
    assert Capability.VIEW_AUDIT_LOG in combined  # from auditor


@pytest.mark.parametrize(
    "capability", [Capability.MANAGE_USERS, Capability.MANAGE_CLINIC]
)
def test_only_clinic_admins_manage_staff_and_the_clinic(capability: Capability) -> None:
    holders = {role for role in Role if capability in capabilities_of({role})}

    assert holders == {Role.CLINIC_ADMIN}


def test_auditors_read_and_change_nothing() -> None:
    auditor = capabilities_of({Role.AUDITOR})

    assert Capability.VIEW_CHART in auditor
    assert Capability.VIEW_AUDIT_LOG in auditor
    assert auditor.isdisjoint(WRITE_CAPABILITIES)


def test_clinic_admins_do_not_open_charts() -> None:
    assert Capability.VIEW_CHART not in capabilities_of({Role.CLINIC_ADMIN})


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.BILLING, Role.CUSTODIAN])
def test_non_clinical_roles_do_not_open_charts(role: Role) -> None:
    assert Capability.VIEW_CHART not in capabilities_of({role})


def test_a_users_capabilities_come_from_their_groups(
    organization: Organization,
) -> None:
    user = make_staff(organization, "two-hats", Role.FRONT_DESK)
    user.groups.add(Group.objects.get(name=Role.BILLING.value))
    fresh = User.objects.get(pk=user.pk)

    assert fresh.roles == frozenset({Role.FRONT_DESK, Role.BILLING})
    assert fresh.capabilities == capabilities_of({Role.FRONT_DESK, Role.BILLING})
    assert fresh.can(Capability.REGISTER_PATIENT)
    assert not fresh.can(Capability.VIEW_CHART)


def test_a_user_without_a_role_can_do_nothing(organization: Organization) -> None:
    user = make_staff(organization, "no-role", None)

    assert user.roles == frozenset()
    assert user.capabilities == frozenset()
    assert not any(user.can(c) for c in Capability)


def test_a_deactivated_user_has_no_capabilities(organization: Organization) -> None:
    user = make_staff(organization, "gone", Role.CLINIC_ADMIN)
    User.objects.filter(pk=user.pk).update(is_active=False)
    fresh = User.objects.get(pk=user.pk)

    assert fresh.roles == frozenset({Role.CLINIC_ADMIN})
    assert fresh.capabilities == frozenset()
    assert not any(fresh.can(c) for c in Capability)
