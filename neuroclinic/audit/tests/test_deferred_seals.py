"""Sealing deferred to the end of a bulk writer's block (the demo loader)."""

from collections.abc import Callable

import pytest
from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import Seal
from neuroclinic.audit.seals import deferred_seals, verify_seals
from neuroclinic.clinics.models import Organization


def _seals(user: User) -> int:
    return Seal.objects.filter(model="accounts.user", object_id=str(user.pk)).count()


def test_a_row_saved_twice_in_the_block_is_sealed_once_with_its_last_content(
    organization: Organization,
) -> None:
    with transaction.atomic(), deferred_seals():
        user = User.objects.create(username="deferred", organization=organization)
        user.last_name = "Changed"
        user.save()
        assert _seals(user) == 0  # nothing sealed yet
    assert _seals(user) == 1
    assert verify_seals() == []


def test_outside_the_block_each_save_is_sealed_again(
    staff: Callable[[str], User],
) -> None:
    user = staff("nurse")
    before = _seals(user)
    user.last_name = "Changed"
    user.save()
    assert _seals(user) == before + 1
    assert verify_seals() == []


def test_a_nested_block_seals_at_the_end_of_the_outer_one(
    organization: Organization,
) -> None:
    with deferred_seals():
        with deferred_seals():
            user = User.objects.create(username="nested", organization=organization)
        assert _seals(user) == 0
    assert _seals(user) == 1


def test_an_exception_seals_nothing_and_leaves_the_next_save_sealed_at_once(
    organization: Organization,
) -> None:
    def failing_writer() -> None:
        with transaction.atomic(), deferred_seals():
            User.objects.create(username="rolled-back", organization=organization)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_writer()
    assert not User.objects.filter(username="rolled-back").exists()
    user = User.objects.create(username="after", organization=organization)
    assert _seals(user) == 1
    assert verify_seals() == []


def test_a_row_deleted_in_the_block_is_sealed_before_its_tombstone(
    organization: Organization,
) -> None:
    with deferred_seals():
        user = User.objects.create(username="short-lived", organization=organization)
        pk = user.pk
        user.delete()
    seals = list(
        Seal.objects.filter(model="accounts.user", object_id=str(pk)).order_by("id")
    )
    assert [bool(seal.content_hash) for seal in seals] == [True, False]
    assert verify_seals() == []
