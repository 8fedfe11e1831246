"""Billing forms. They parse; the actions decide (and their refusals land on the field)."""

from django import forms

from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import Package, PackageClosure, Payment, Service
from neuroclinic.billing.rules import PayerStatus


def add_error(form: forms.Form, exc: BillingError) -> None:
    """Put an action's refusal on the field it names, else at the top of the form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class PayerStatusForm(forms.Form):
    status = forms.ChoiceField(
        label="Is the patient uninsured, or paying the clinic themselves?",
        choices=[
            (PayerStatus.UNINSURED.value, "Uninsured"),
            (PayerStatus.SELF_PAY.value, "Insured, paying the clinic directly"),
            (PayerStatus.INSURED.value, "Wants insurance billed"),
        ],
    )
    member_id = forms.CharField(
        label="Insurance member ID (for superbills)", required=False, max_length=40
    )


class EstimateForm(forms.Form):
    package = forms.ModelChoiceField(queryset=Package.objects.none(), required=False)
    consult = forms.BooleanField(label="Add a consult", required=False)
    extra_infusions = forms.IntegerField(
        label="Infusions outside a package", min_value=0, max_value=60, required=False
    )
    scheduled_on = forms.DateField(
        label="Booked on", widget=forms.DateInput(attrs={"type": "date"})
    )
    service_on = forms.DateField(
        label="First service on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    requested = forms.BooleanField(label="The patient asked for it", required=False)

    def __init__(self, *args: object, organization_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["package"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Package.objects.filter(organization_id=organization_id)


class SellPackageForm(forms.Form):
    package = forms.ModelChoiceField(queryset=Package.objects.none())
    deposit_amount = forms.CharField(
        label="Taken now (blank: the deposit)", required=False, max_length=14
    )
    method = forms.ChoiceField(
        choices=[c for c in Payment.Method.choices if c[0] != "credit"]
    )
    reference = forms.CharField(
        label="Terminal, check or financing reference", required=False, max_length=80
    )

    def __init__(self, *args: object, organization_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["package"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Package.objects.filter(organization_id=organization_id)


class PaymentForm(forms.Form):
    amount = forms.CharField(max_length=14)
    method = forms.ChoiceField(
        choices=[c for c in Payment.Method.choices if c[0] != "credit"]
    )
    reference = forms.CharField(
        label="Terminal, check or financing reference", required=False, max_length=80
    )
    excess_as_credit = forms.BooleanField(
        label="Keep any excess as credit on account", required=False
    )


class ClosePackageForm(forms.Form):
    reason = forms.ChoiceField(
        choices=PackageClosure.Reason.choices, label="Why it closes"
    )
    note = forms.CharField(max_length=200, required=False)


class RefundForm(forms.Form):
    amount = forms.CharField(max_length=14)
    reason = forms.CharField(max_length=200)


class SuperbillForm(forms.Form):
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class StatementForm(forms.Form):
    period_start = forms.DateField(
        label="First day", widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label="Last day", widget=forms.DateInput(attrs={"type": "date"})
    )


class PriceForm(forms.Form):
    service_key = forms.ChoiceField(label="Service", choices=Service.Key.choices)
    amount = forms.CharField(max_length=14)
    currency_code = forms.CharField(label="Currency", max_length=3, initial="USD")
    reason = forms.CharField(required=False, max_length=200)


class PackageForm(forms.Form):
    name = forms.CharField(max_length=200)
    service_key = forms.ChoiceField(label="Service", choices=Service.Key.choices)
    sessions = forms.IntegerField(min_value=1, max_value=60)
    price = forms.CharField(max_length=14)
    deposit = forms.CharField(max_length=14)
    unused_sessions = forms.ChoiceField(choices=Package.UnusedSessions.choices)
    currency_code = forms.CharField(label="Currency", max_length=3, initial="USD")


class IdentityForm(forms.Form):
    legal_name = forms.CharField(max_length=200)
    tax_id_number = forms.CharField(label="Tax ID (EIN)", max_length=10)
    organization_npi = forms.CharField(
        label="Organization NPI", required=False, max_length=10
    )
    address = forms.CharField(max_length=300)
    phone = forms.CharField(max_length=40)
    currency_code = forms.CharField(label="Currency", max_length=3, initial="USD")


class ProviderForm(forms.Form):
    clinician = forms.UUIDField(widget=forms.HiddenInput)
    npi_number = forms.CharField(label="NPI", max_length=10)
    license_number = forms.CharField(max_length=40)
    license_state = forms.CharField(max_length=2)
    taxonomy_code = forms.CharField(required=False, max_length=10)
