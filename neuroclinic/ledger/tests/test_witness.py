"""Witnesses: who may witness, how they confirm, and the one form that asks for them.

Every refusal writes nothing (assertions.refused checks it)."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django import forms
from django.test import Client
from django.utils import timezone

from conftest import TEST_PASSWORD, make_staff
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.clinics.models import Organization
from neuroclinic.ledger.actions.sessions import waste_remainder
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import LedgerEntry
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.assertions import refused
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.ledger.witness import (
    WitnessedWasteForm,
    WitnessForm,
    confirm_witness,
)
from neuroclinic.patients.models import Patient

D = Decimal


def test_waste_needs_a_witness(stock: Stock, nurse: User, patient: Patient) -> None:
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse)

    with refused("witness_missing", "witness"):
        waste_remainder(ref, volume_ml=D("0.10"), by=nurse, witness=None)


def test_the_witness_cannot_be_the_person_wasting(
    stock: Stock, nurse: User, patient: Patient
) -> None:
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse)

    with refused("witness_is_actor", "witness"):
        waste_remainder(
            ref,
            volume_ml=D("0.10"),
            by=nurse,
            witness=factories.confirmed(nurse),
        )


@pytest.mark.parametrize(
    "persona", ["front_desk", "billing", "auditor", "tms", "admin"]
)
def test_a_witness_without_a_witnessing_role_is_refused(
    stock: Stock,
    nurse: User,
    patient: Patient,
    persona: str,
    request: pytest.FixtureRequest,
) -> None:
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse)
    bystander = request.getfixturevalue(persona)

    with refused("witness_role_not_permitted", "witness"):
        waste_remainder(
            ref,
            volume_ml=D("0.10"),
            by=nurse,
            witness=factories.confirmed(bystander),
        )


def test_a_stale_witness_confirmation_is_refused(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> None:
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse)
    old = factories.confirmed(custodian)
    stale = type(old)(
        witness=custodian, confirmed_at=timezone.now() - timedelta(minutes=5)
    )

    with refused("witness_stale", "witness"):
        waste_remainder(ref, volume_ml=D("0.10"), by=nurse, witness=stale)


def test_a_witness_confirms_with_their_password_and_current_code(
    nurse: User, custodian: User
) -> None:
    code = factories.current_code(custodian)

    confirmation = confirm_witness(
        actor=nurse,
        witness_username="custodian",
        password="correct-horse-battery-staple",
        otp_code=code,
    )

    assert confirmation.witness == custodian
    assert timezone.now() - confirmation.confirmed_at < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("username", "password", "code", "expected", "field"),
    [
        (
            "custodian",
            "wrong-password",
            "current",
            "witness_password_wrong",
            "witness_password",
        ),
        (
            "custodian",
            "correct-horse-battery-staple",
            "000000",
            "witness_code_wrong",
            "witness_code",
        ),
        (
            "custodian",
            "correct-horse-battery-staple",
            "abc",
            "witness_code_wrong",
            "witness_code",
        ),
        (
            "custodian",
            "correct-horse-battery-staple",
            "used",
            "witness_code_wrong",
            "witness_code",
        ),
        (
            "nurse",
            "correct-horse-battery-staple",
            "current",
            "witness_is_actor",
            "witness",
        ),
        (
            "front_desk",
            "correct-horse-battery-staple",
            "current",
            "witness_role_not_permitted",
            "witness",
        ),
        (
            "outsider",
            "correct-horse-battery-staple",
            "current",
            "witness_unknown",
            "witness",
        ),
        ("nobody", "x", "current", "witness_unknown", "witness"),
    ],
)
def test_a_wrong_witness_confirmation_is_refused_and_nothing_is_written(
    stock: Stock,
    nurse: User,
    custodian: User,
    front_desk: User,
    outsider: User,
    patient: Patient,
    username: str,
    password: str,
    code: str,
    expected: str,
    field: str,
) -> None:
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse)
    witness = {
        "custodian": custodian,
        "front_desk": front_desk,
        "outsider": outsider,
    }.get(username, custodian)
    otp = {"current": factories.current_code(witness), "used": ""}.get(code, code)
    if code == "used":  # the code has just been used (e.g. to sign in): no replay
        otp = factories.current_code(custodian)
        factories.totp_device(custodian).verify_token(otp)

    def waste_with_confirmation() -> None:
        confirmation = confirm_witness(
            actor=nurse, witness_username=username, password=password, otp_code=otp
        )
        waste_remainder(ref, volume_ml=D("0.10"), by=nurse, witness=confirmation)

    with refused(expected, field):
        waste_with_confirmation()
    assert LedgerEntry.objects.filter(kind="waste").exists() is False


def test_wrong_codes_throttle_the_witness_device(nurse: User, custodian: User) -> None:
    device = factories.totp_device(custodian)
    with pytest.raises(LedgerError):
        confirm_witness(
            actor=nurse,
            witness_username="custodian",
            password="correct-horse-battery-staple",
            otp_code="000000",
        )

    with pytest.raises(LedgerError) as caught:
        confirm_witness(
            actor=nurse,
            witness_username="custodian",
            password="correct-horse-battery-staple",
            otp_code=factories.current_code(custodian),
        )

    assert caught.value.code == "witness_code_throttled"
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


# --- the one witness form (ledger pages and the infusion tablet) ----------------------


def _witness_post(code: str, **fields: str) -> dict[str, str]:
    return {
        "witness": "custodian",
        "witness_password": TEST_PASSWORD,
        "witness_code": code,
    } | fields


def test_the_form_offers_only_active_colleagues_who_may_witness(
    nurse: User,
    custodian: User,
    director: User,
    prescriber: User,
    front_desk: User,
    auditor: User,
    outsider: User,
    organization: Organization,
) -> None:
    gone = make_staff(organization, "gone", Role.NURSE)
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    field = WitnessForm(actor=nurse).fields["witness"]

    assert isinstance(field, forms.ModelChoiceField)
    assert field.queryset is not None
    assert [u.username for u in field.queryset] == [
        "custodian",
        "director",
        "prescriber",
    ]
    assert field.label_from_instance(custodian) == custodian.display_name


@pytest.mark.parametrize(
    "volume",
    ["0.105", "10000", "-0.10", "", "a lot"],
    ids=["three-places", "seven-digits", "negative", "blank", "words"],
)
def test_a_waste_volume_is_refused_unless_to_the_hundredth_and_bounded(
    nurse: User, custodian: User, volume: str
) -> None:
    form = WitnessedWasteForm(
        _witness_post(factories.current_code(custodian), volume_ml=volume), actor=nurse
    )

    assert form.is_valid() is False
    assert list(form.errors) == ["volume_ml"]


def test_a_session_waste_of_a_thousandth_of_a_ml_is_refused_on_the_page(
    stock: Stock,
    as_persona: Callable[[str], Client],
    nurse: User,
    custodian: User,
    patient: Patient,
) -> None:
    # Before one form, the ledger's waste form let 0.105 mL through to the action;
    # the tablet's refused it. Both now refuse it on the field, before the witness
    # is asked (so no code is spent) and before anything is written.
    ref = factories.draw(stock.vials[0], patient=patient, by=nurse)
    device = factories.totp_device(custodian)
    last_code_used = device.last_t
    entries = LedgerEntry.objects.count()

    response = as_persona("nurse").post(
        f"/ledger/sessions/{ref}/waste",
        {
            f"waste-{name}": value
            for name, value in _witness_post(
                factories.current_code(custodian), volume_ml="0.105", reason="Remainder"
            ).items()
        },
    )

    assert response.status_code == 200
    assert "no more than 2 decimal places" in response.content.decode()
    assert LedgerEntry.objects.count() == entries
    device.refresh_from_db()
    assert device.last_t == last_code_used


def test_the_form_confirms_the_witness_with_their_current_code(
    nurse: User, custodian: User
) -> None:
    form = WitnessForm(_witness_post(factories.current_code(custodian)), actor=nurse)
    assert form.is_valid()

    confirmation = form.confirm()

    assert confirmation is not None
    assert confirmation.witness == custodian
    assert form.errors == {}


def test_a_wrong_code_on_the_form_is_an_error_on_the_code_and_counts(
    nurse: User, custodian: User
) -> None:
    device = factories.totp_device(custodian)
    form = WitnessForm(_witness_post("000000"), actor=nurse)
    assert form.is_valid()

    assert form.confirm() is None
    assert list(form.errors) == ["witness_code"]
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_an_optional_witness_may_be_left_out_but_not_half_given(
    nurse: User, custodian: User
) -> None:
    class SecondPersonForm(WitnessForm):
        witness_optional = True

    left_out = SecondPersonForm({}, actor=nurse)
    half = SecondPersonForm({"witness": "custodian"}, actor=nurse)
    assert left_out.is_valid()
    assert half.is_valid()

    assert left_out.confirm() is None
    assert left_out.errors == {}
    assert half.confirm() is None
    assert list(half.errors) == ["witness_password"]
