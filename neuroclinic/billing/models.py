"""Prices, packages, estimates, invoices, payments and superbills.

Money is Decimal with its currency beside it (`amount`, `currency`). Nothing
here is edited in place: a new price is a new version, a correction to a
payment is a refund, and balances are added up from the rows, never stored
except as the invoice total, which `neuroclinic billing verify` re-adds.
"""

import uuid
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q

from neuroclinic.billing.rules import PayerStatus, PlaceOfService


def money_field(**kwargs: Any) -> Any:
    return models.DecimalField(max_digits=10, decimal_places=2, **kwargs)


def currency_field() -> Any:
    return models.CharField(max_length=3, default="USD")


class BillingIdentity(models.Model):
    """Who bills: the practice's legal name, tax id and NPI (B5). A change is a new row."""

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    legal_name = models.CharField(max_length=200)
    tax_id = models.CharField("Tax ID (EIN)", max_length=10)
    organization_npi = models.CharField("Organization NPI", max_length=10, blank=True)
    address = models.CharField(max_length=300)
    phone = models.CharField(max_length=40)
    place_of_service = models.CharField(
        max_length=2,
        choices=[(p.value, p.name.title()) for p in PlaceOfService],
        default=PlaceOfService.OFFICE,
    )
    currency = currency_field()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["organization", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.tax_id})"


class RenderingProvider(models.Model):
    """A clinician's billing identifiers (B5): NPI, licence and state. A change is a new row."""

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="billing_identities"
    )
    npi = models.CharField("NPI", max_length=10)
    license_number = models.CharField(max_length=40)
    license_state = models.CharField(max_length=2)
    taxonomy_code = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["user", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"NPI {self.npi}"


class Service(models.Model):
    """A billable service on the price list, with its code (B1-B4)."""

    class Key(models.TextChoices):
        CONSULT = "consult", "Psychiatric evaluation (consult)"
        PSYCH_EVAL = "psych_eval", "Psychiatric evaluation without medical services"
        EM_99202 = "em_99202", "Office visit, new patient, 15-29 min"
        EM_99203 = "em_99203", "Office visit, new patient, 30-44 min"
        EM_99204 = "em_99204", "Office visit, new patient, 45-59 min"
        EM_99205 = "em_99205", "Office visit, new patient, 60 min or more"
        EM_99212 = "em_99212", "Office visit, established patient, 10-19 min"
        EM_99213 = "em_99213", "Office visit, established patient, 20-29 min"
        EM_99214 = "em_99214", "Office visit, established patient, 30-39 min"
        EM_99215 = "em_99215", "Office visit, established patient, 40 min or more"
        INFUSION = "infusion", "Ketamine infusion, first hour"
        INFUSION_ADDITIONAL_HOUR = "infusion_hour", "Infusion, each additional hour"
        IV_PUSH = "iv_push", "IV push (15 minutes or less)"
        BOOSTER = "booster", "Booster infusion, first hour"
        KETAMINE = "ketamine", "Ketamine (drug)"
        PRN_MEDICATION = "prn_medication", "As-needed medication (drug)"
        TMS_INITIAL = "tms_initial", "TMS first session with motor threshold"
        TMS_SESSION = "tms_session", "TMS session"
        TMS_MOTOR_THRESHOLD = "tms_motor_threshold", "TMS session with motor threshold"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(max_length=24, choices=Key.choices)
    name = models.CharField(max_length=200)
    code = models.CharField("CPT/HCPCS", max_length=5)

    class Meta:
        ordering = ["organization", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key"], name="billing_service_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Price(models.Model):
    """One version of a service's price. The newest version is the price; old ones stay."""

    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="prices"
    )
    version = models.PositiveIntegerField()
    amount = money_field()
    currency = currency_field()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["service", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "version"], name="billing_price_version"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="billing_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} (v{self.version})"


class Package(models.Model):
    """A package (induction series, TMS course): identity; its terms are versions."""

    class UnusedSessions(models.TextChoices):
        REFUND = "refund", "Unused sessions refunded at their share"
        CREDIT = "credit", "Unused sessions kept as credit on account"
        FORFEIT = "forfeit", "Unused sessions forfeited after the course ends"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=200)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["organization", "name"]

    def __str__(self) -> str:
        return self.name


class PackageVersion(models.Model):
    package = models.ForeignKey(
        Package, on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveIntegerField()
    sessions = models.PositiveSmallIntegerField()
    price = money_field()
    deposit = money_field()
    currency = currency_field()
    unused_sessions = models.CharField(
        max_length=8, choices=Package.UnusedSessions.choices
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["package", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "version"], name="billing_package_version"
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0)
                & Q(deposit__gte=0)
                & Q(deposit__lte=models.F("price")),
                name="billing_package_amounts",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.sessions} sessions, {self.price} {self.currency} (v{self.version})"
        )


class PayerStatusAnswer(models.Model):
    """The answer to "are you uninsured or paying yourself?" (B6). The newest counts."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10,
        choices=[
            (PayerStatus.UNINSURED.value, "Uninsured"),
            (PayerStatus.SELF_PAY.value, "Insured, paying the clinic directly"),
            (PayerStatus.INSURED.value, "Wants insurance billed"),
        ],
    )
    member_id = models.CharField("Insurance member ID", max_length=40, blank=True)
    asked_at = models.DateTimeField(auto_now_add=True)
    asked_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "-asked_at", "-id"]

    def __str__(self) -> str:
        return self.get_status_display()


class PackageSale(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    package_version = models.ForeignKey(
        PackageVersion, on_delete=models.PROTECT, related_name="sales"
    )
    sold_at = models.DateTimeField(auto_now_add=True)
    sold_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-sold_at", "-id"]

    def __str__(self) -> str:
        return f"Package sold {self.sold_at:%Y-%m-%d}"


class PackageClosure(models.Model):
    """A package sale closed, and its unused sessions settled by the terms it was sold on
    (`PackageVersion.unused_sessions`): refunded at their share (refund rows against the
    sale's payments), kept as credit on account, or forfeited (a `forfeited` row takes the
    credit). Never edited; one per sale."""

    class Reason(models.TextChoices):
        COMPLETED = "completed", "Every session used"
        COURSE_ENDED = "course_ended", "The series or course ended early"
        EXPIRED = "expired", "The package expired"
        CANCELLED = "cancelled", "The patient cancelled"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    package_sale = models.OneToOneField(
        PackageSale, on_delete=models.PROTECT, related_name="closure"
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    policy = models.CharField(max_length=8, choices=Package.UnusedSessions.choices)
    sessions_sold = models.PositiveSmallIntegerField()
    sessions_used = models.PositiveSmallIntegerField()
    unused_value = money_field()
    settled_amount = money_field()
    currency = currency_field()
    note = models.CharField(max_length=200, blank=True)
    closed_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-closed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unused_value__gte=0)
                & Q(settled_amount__gte=0)
                & Q(settled_amount__lte=models.F("unused_value"))
                & Q(sessions_used__lte=models.F("sessions_sold")),
                name="billing_package_closure_amounts",
            )
        ]

    def __str__(self) -> str:
        return f"Package closed {self.closed_at:%Y-%m-%d}"

    @property
    def unused_sessions(self) -> int:
        return self.sessions_sold - self.sessions_used


class GoodFaithEstimate(models.Model):
    """A written estimate (B6): items, codes, diagnoses, expected charges, the right to dispute.

    `content` keeps exactly what was given, so the PDF is the same every time.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(max_length=20)
    trigger = models.CharField(max_length=10)
    scheduled_on = models.DateField(
        help_text="Day the service was booked or the estimate asked for."
    )
    service_on = models.DateField(null=True, blank=True)
    due_by = models.DateField(null=True, blank=True)
    total = money_field()
    currency = currency_field()
    content = models.JSONField()
    given_at = models.DateTimeField(auto_now_add=True)
    given_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-given_at", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def given_late(self) -> bool:
        return self.due_by is not None and self.given_at.date() > self.due_by


class Invoice(models.Model):
    """Charges for one visit (from what was charted) or one package."""

    class Kind(models.TextChoices):
        VISIT = "visit", "Visit"
        PACKAGE = "package", "Package"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        "clinics.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(max_length=20)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    service_date = models.DateField()
    # What was charted: the infusion session (one invoice per session) or the package sold.
    session_ref = models.UUIDField(null=True, blank=True, unique=True)
    package_sale = models.ForeignKey(
        PackageSale,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    rendering_provider = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    total = money_field()
    currency = currency_field()
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="billing_invoice_number"
            )
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    price = models.ForeignKey(
        Price, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(max_length=200)
    code = models.CharField(max_length=5)
    modifiers = models.CharField(max_length=20, blank=True)
    units = models.PositiveSmallIntegerField()
    unit_price = money_field()
    amount = money_field()
    service_date = models.DateField()
    place_of_service = models.CharField(max_length=2, default=PlaceOfService.OFFICE)

    class Meta:
        ordering = ["invoice", "position"]

    def __str__(self) -> str:
        return f"{self.code} x{self.units}"


class Payment(models.Model):
    """Money in or out, never edited: a payment, a refund, or credit moved onto an invoice.

    `invoice` empty means on account (a deposit, or the excess of a payment the
    payer chose to keep as credit). `processor` and `processor_ref` leave room
    for a card processor to be connected later; today the terminal's reference
    is typed in.
    """

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        CREDIT_APPLIED = "credit_applied", "Credit applied"
        # Credit on account the clinic keeps when a package's terms forfeit unused
        # sessions (PackageClosure); no money moves.
        FORFEITED = "forfeited", "Credit forfeited (package terms)"

    class Method(models.TextChoices):
        CASH = "cash", "Cash"
        CARD = "card", "Card (terminal)"
        CHECK = "check", "Check"
        FINANCING = "financing", "Financing"
        CREDIT = "credit", "Credit on account"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        "clinics.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    package_sale = models.ForeignKey(
        PackageSale,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    method = models.CharField(max_length=10, choices=Method.choices)
    amount = money_field()
    currency = currency_field()
    reference = models.CharField(max_length=80, blank=True)
    processor = models.CharField(max_length=40, blank=True)
    processor_ref = models.CharField(max_length=120, blank=True)
    note = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    received_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="billing_payment_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"

    @property
    def signed_amount(self) -> Decimal:
        amount: Decimal = self.amount
        # Money out, or credit taken off the account.
        return (
            -amount if self.kind in (self.Kind.REFUND, self.Kind.FORFEITED) else amount
        )


class Superbill(models.Model):
    """A superbill as given (B5): `content` is the snapshot the PDF and CSV are made from."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    content = models.JSONField()
    made_at = models.DateTimeField(auto_now_add=True)
    made_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-made_at", "-id"]

    def __str__(self) -> str:
        return f"Superbill {self.period_start} to {self.period_end}"


class NumberSequence(models.Model):
    """The next invoice, estimate number, per organization: locked while one is taken."""

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    prefix = models.CharField(max_length=4)
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "prefix"], name="billing_number_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix} next {self.next_number}"


class Statement(models.Model):
    """A patient statement for a period as given: `content` is the snapshot the PDF
    and the API are made from; `closing_balance` is what `billing verify` re-adds to."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(max_length=20)
    period_start = models.DateField()
    period_end = models.DateField()
    closing_balance = money_field()
    currency = currency_field()
    content = models.JSONField()
    made_at = models.DateTimeField(auto_now_add=True)
    made_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-made_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="billing_statement_number"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="billing_statement_period",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class EmRuleVersion(models.Model):
    """One version of the clinic's office-visit (E/M) time rules, set by the medical
    director or clinic admin. Never edited: a change is the next version, used for
    invoices made after it; an invoice keeps the version it was coded under
    (`VisitCoding.rule_version`). Bands are `[code, low, high]` lists (high may be null
    for the top band), checked by `em_rules.EmTimeRules` before a version is saved."""

    organization = models.ForeignKey(
        "clinics.Organization", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField()
    new_patient_bands = models.JSONField()
    established_bands = models.JSONField()
    lookback_years = models.PositiveSmallIntegerField()
    change_note = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["organization", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "version"], name="billing_em_rule_version"
            )
        ]

    def __str__(self) -> str:
        return f"E/M time rules v{self.version}"


class VisitCoding(models.Model):
    """How a visit's code was chosen, kept beside its invoice: the rule version (null:
    the built-in defaults), what the rule suggested and why, and what was billed."""

    invoice = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, related_name="coding"
    )
    rule_version = models.ForeignKey(
        EmRuleVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="codings",
    )
    new_patient = models.BooleanField()
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    suggested_code = models.CharField(max_length=5)
    chosen_code = models.CharField(max_length=5)
    basis = models.CharField(max_length=300)
    made_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-made_at", "-id"]

    def __str__(self) -> str:
        return f"{self.chosen_code} (suggested {self.suggested_code})"
