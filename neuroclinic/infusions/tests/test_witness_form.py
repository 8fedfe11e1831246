"""The tablet asks for a witness with the ledger's one witness form, so the rules agree."""

from django import forms

from neuroclinic.accounts.models import User
from neuroclinic.infusions.forms import DoseCheckForm, WasteForm
from neuroclinic.ledger.witness import witnesses_for


def test_the_tablet_offers_the_witnesses_the_ledger_offers(
    nurse: User, custodian: User, director: User, front_desk: User, auditor: User
) -> None:
    for form in (WasteForm(actor=nurse), DoseCheckForm(actor=nurse)):
        field = form.fields["witness"]
        assert isinstance(field, forms.ModelChoiceField)
        assert field.queryset is not None
        assert (
            list(field.queryset)
            == list(witnesses_for(nurse))
            == [
                custodian,
                director,
            ]
        )


def test_the_tablet_refuses_a_waste_volume_finer_than_a_hundredth_of_a_ml(
    nurse: User, custodian: User
) -> None:
    form = WasteForm(
        {
            "volume_ml": "0.105",
            "witness": "custodian",
            "witness_password": "anything",
            "witness_code": "123456",
        },
        actor=nurse,
    )

    assert form.is_valid() is False
    assert list(form.errors) == ["volume_ml"]
