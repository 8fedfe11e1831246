"""HTML forms for the ledger: shape and range only; the actions hold the rules."""

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location
from neuroclinic.ledger.models import (
    Container,
    Count,
    Discrepancy,
    Inventory,
    Product,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.reports import ReportKind
from neuroclinic.ledger.witness import WitnessedWasteForm, WitnessForm
from neuroclinic.lib.bidi import NoBidiForm


def volume_field(label: str = "Volume (mL)", **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        **kwargs,
    )


class VialChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Container) -> str:
        return (
            f"{obj.vial_identifier} · {obj.product.name} "
            f"{obj.product.concentration_mg_per_ml.normalize():f} mg/mL · lot {obj.lot.lot_number} "
            f"exp {obj.lot.expiry_date:%Y-%m-%d} · {obj.balance_ml} mL left"
        )


class DrawForm(forms.Form):
    container = VialChoiceField(
        queryset=Container.objects.none(), label="Vial", to_field_name="uuid"
    )
    patient_mrn = forms.CharField(label="Patient MRN", max_length=20)
    volume_ml = volume_field()

    def __init__(
        self, *args: Any, containers: QuerySet[Container], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["container"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = containers


class VolumeForm(forms.Form):
    volume_ml = volume_field()


class SessionWasteForm(WitnessedWasteForm):
    reason = forms.CharField(max_length=500, initial="Remainder after administration")
    field_order = ["volume_ml", "reason", "witness", "witness_password", "witness_code"]


class ReturnForm(WitnessForm):
    volume_ml = volume_field("Volume returned (mL)")
    reason = forms.CharField(max_length=500)
    field_order = ["volume_ml", "reason", "witness", "witness_password", "witness_code"]


class ContainerWasteForm(WitnessedWasteForm):
    reason = forms.CharField(max_length=500, help_text="e.g. vial dropped and broke")
    field_order = ["volume_ml", "reason", "witness", "witness_password", "witness_code"]


class DestroyForm(WitnessForm):
    method = forms.CharField(max_length=200, help_text="e.g. chemical digestion kit")
    reason = forms.CharField(max_length=500, initial="Expired stock")
    field_order = ["method", "reason", "witness", "witness_password", "witness_code"]


class ReverseDistributorForm(WitnessForm):
    reverse_distributor = forms.ModelChoiceField(
        queryset=Supplier.objects.none(), to_field_name="uuid"
    )
    reason = forms.CharField(max_length=500, initial="Expired or unwanted stock")
    field_order = [
        "reverse_distributor",
        "reason",
        "witness",
        "witness_password",
        "witness_code",
    ]

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        field = self.fields["reverse_distributor"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Supplier.objects.filter(
            organization_id=actor.organization_pk,
            kind=Supplier.Kind.REVERSE_DISTRIBUTOR,
            is_active=True,
        )


class TransferForm(forms.Form):
    to_storage_location = forms.ModelChoiceField(
        queryset=StorageLocation.objects.none(), to_field_name="uuid", label="To safe"
    )
    reason = forms.CharField(max_length=500, required=False)

    def __init__(self, *args: Any, container: Container, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_storage_location"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = StorageLocation.objects.filter(
            organization_id=container.organization_id, is_active=True
        ).exclude(pk=container.storage_location_id)


class ReversalForm(WitnessForm):
    reason = forms.CharField(max_length=500, help_text="What was wrong with the entry.")
    field_order = ["reason", "witness", "witness_password", "witness_code"]


class ReceiveForm(NoBidiForm):
    supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.none(), to_field_name="uuid"
    )
    invoice_number = forms.CharField(max_length=60)
    invoice_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    storage_location = forms.ModelChoiceField(
        queryset=StorageLocation.objects.none(), to_field_name="uuid", label="Safe"
    )
    invoice_scan = forms.FileField(
        required=False,
        label="Invoice scan (PDF, JPEG or PNG)",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, registrant: Registrant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        supplier = self.fields["supplier"]
        storage = self.fields["storage_location"]
        assert isinstance(supplier, forms.ModelChoiceField)
        assert isinstance(storage, forms.ModelChoiceField)
        supplier.queryset = Supplier.objects.filter(
            organization_id=registrant.organization_id,
            kind=Supplier.Kind.DISTRIBUTOR,
            is_active=True,
        )
        storage.queryset = registrant.storage_locations.filter(is_active=True)


class ReceiveItemForm(NoBidiForm):
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(), to_field_name="uuid"
    )
    lot_number = forms.CharField(max_length=40)
    expiry_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    container_count = forms.IntegerField(
        label="Number of vials", min_value=1, max_value=200
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["product"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Product.objects.filter(
            organization_id=organization_id, is_active=True
        )


ReceiveItemFormSet = forms.formset_factory(ReceiveItemForm, extra=3, max_num=10)


class CountForm(WitnessForm):
    """One counted-volume field per vial in the safe, plus the second counter."""

    kind = forms.ChoiceField(choices=Count.Kind.choices, initial=Count.Kind.DAILY)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self, *args: Any, actor: User, containers: list[Container], **kwargs: Any
    ) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.containers = containers
        for container in containers:
            opened = container.opened_at is not None
            self.fields[f"counted_{container.uuid}"] = volume_field(
                label=f"Vial {container.vial_identifier}",
                min_value=Decimal(0),
                help_text="opened: estimate the volume"
                if opened
                else "sealed: count it",
                initial=None if opened else container.initial_volume_ml,
            )

    def counted(self) -> list[tuple[Container, Decimal]]:
        return [(c, self.cleaned_data[f"counted_{c.uuid}"]) for c in self.containers]


class InventoryForm(CountForm):
    witness_optional = True  # the second person is recommended, not required

    time_of_day = forms.ChoiceField(
        choices=Inventory.TimeOfDay.choices, label="Taken at"
    )

    def __init__(
        self, *args: Any, actor: User, containers: list[Container], **kwargs: Any
    ) -> None:
        super().__init__(*args, actor=actor, containers=containers, **kwargs)
        self.fields["kind"] = forms.ChoiceField(choices=Inventory.Kind.choices)


class NotesForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class EscalateForm(forms.Form):
    loss_kind = forms.ChoiceField(choices=Discrepancy.LossKind.choices)
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What happened, and why it is significant.",
    )


class TaskDoneForm(forms.Form):
    reference = forms.CharField(
        max_length=100,
        help_text="TLR confirmation number, or how and when the notice was sent",
    )


class ReportForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(k.value, k.label) for k in ReportKind], label="Report"
    )
    start_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), label="From"
    )
    end_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), label="To"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and start > end:
            self.add_error("start_date", "The start date is after the end date.")
        return data


class RegistrantForm(forms.Form):
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), to_field_name="uuid"
    )
    name = forms.CharField(max_length=200, label="Name on the registration")
    address_line1 = forms.CharField(max_length=200)
    address_line2 = forms.CharField(max_length=200, required=False)
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=50)
    postal_code = forms.CharField(max_length=20)
    dea_number = forms.CharField(max_length=9, label="DEA registration number")
    schedules = forms.CharField(max_length=40, initial="CII,CIII,CIV,CV")

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Location.objects.filter(
            organization_id=organization_id, registrant__isnull=True
        )


class StorageLocationForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=200, required=False)


class ProductForm(forms.Form):
    name = forms.CharField(max_length=200, initial="Ketamine HCl injection")
    ndc = forms.CharField(max_length=13, label="NDC")
    concentration_mg_per_ml = forms.DecimalField(
        max_digits=8, decimal_places=2, label="mg/mL"
    )
    container_volume_ml = forms.DecimalField(
        label="mL per vial", max_digits=12, decimal_places=2
    )
    dosage_form = forms.CharField(max_length=60, initial="Injection, solution")


class SupplierForm(forms.Form):
    kind = forms.ChoiceField(choices=Supplier.Kind.choices)
    name = forms.CharField(max_length=200)
    address = forms.CharField(max_length=300)
    dea_number = forms.CharField(max_length=9, label="DEA registration number")
