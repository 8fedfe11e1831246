"""Witness confirmation: a second person, present now, proves it with password and TOTP.

`confirm_witness` is the only door to a `WitnessConfirmation` for people (the demo
loader makes synthetic ones). Call it *before* the action, outside the action's
transaction: a wrong code must count against the witness's authenticator
(django-otp's throttling) even though the action writes nothing.

`WitnessForm` is the one form that asks for a witness, on the ledger's pages and
on the infusion tablet alike (infusions imports it; the ledger imports nothing of
infusions). `WitnessedWasteForm` adds the volume wasted.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from neuroclinic.accounts.models import Authenticator, User
from neuroclinic.accounts.roles import ROLE_CAPABILITIES, Capability
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.rules import LedgerRuleError, check_witness

METHOD_PASSWORD_TOTP = "password+totp"  # noqa: S105 - a label, not a secret
METHOD_SYNTHETIC = "synthetic (demo data)"


@dataclass(frozen=True)
class WitnessConfirmation:
    witness: User
    confirmed_at: datetime
    method: str = METHOD_PASSWORD_TOTP


def witness_roles() -> frozenset[str]:
    """The roles permitted to witness: those the permission matrix grants ledger_witness."""
    return frozenset(
        role.value
        for role, capabilities in ROLE_CAPABILITIES.items()
        if Capability.LEDGER_WITNESS in capabilities
    )


def check_witness_for(actor: User, witness: User) -> None:
    """The pure rule, with our users: someone else, holding a permitted role."""
    try:
        check_witness(
            actor_id=actor.pk,
            witness_id=witness.pk,
            witness_roles={role.value for role in witness.roles},
            permitted_roles=witness_roles(),
        )
    except LedgerRuleError as exc:
        message = exc.message
        if exc.code == "witness_is_actor":
            message = "The witness must be someone other than you."
        elif exc.code == "witness_role_not_permitted":
            message = (
                f"{witness.display_name} may not witness: the witness must hold one of "
                f"these roles: {', '.join(sorted(witness_roles()))}."
            )
        raise LedgerError(message, field="witness", code=str(exc.code)) from None


def confirm_witness(
    *, actor: User, witness_username: str, password: str, otp_code: str
) -> WitnessConfirmation:
    """The witness, confirmed at this moment, or LedgerError naming the field at fault."""
    witness = User.objects.filter(
        username=witness_username.strip(),
        organization_id=actor.organization_pk,
        is_active=True,
    ).first()
    if witness is None:
        raise LedgerError(
            "There is no active member of staff at this clinic with that username.",
            field="witness",
            code="witness_unknown",
        )
    check_witness_for(actor, witness)
    if witness.is_locked():
        raise LedgerError(
            f"{witness.display_name}'s account is locked after failed sign-ins.",
            field="witness",
            code="witness_locked",
        )
    if not password or not witness.check_password(password):
        raise LedgerError(
            "The witness's password is not right.",
            field="witness_password",
            code="witness_password_wrong",
        )
    device = Authenticator.objects.filter(user=witness, confirmed=True).first()
    if device is None:
        raise LedgerError(
            f"{witness.display_name} has not set up an authenticator app, so cannot witness yet.",
            field="witness_code",
            code="witness_no_authenticator",
        )
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        raise LedgerError(
            "Too many wrong codes for this witness: wait a minute, then use the code showing now.",
            field="witness_code",
            code="witness_code_throttled",
        )
    code = otp_code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == device.digits) or not device.verify_token(
        code
    ):
        if not code.isdigit():
            # verify_token counts only codes it was asked about; count this one too.
            device.throttle_increment(commit=True)
        raise LedgerError(
            "That code from the witness's authenticator app is not right, or was already "
            "used. Ask them for the code showing now.",
            field="witness_code",
            code="witness_code_wrong",
        )
    return WitnessConfirmation(witness=witness, confirmed_at=timezone.now())


def witnesses_for(actor: User) -> QuerySet[User]:
    """Who may be offered as the actor's witness: active staff of the same clinic,
    holding a witnessing role, not the actor."""
    return (
        User.objects.filter(
            organization_id=actor.organization_pk,
            is_active=True,
            groups__name__in=sorted(witness_roles()),
        )
        .exclude(pk=actor.pk)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class WitnessChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # django-stubs: generic field
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class WitnessForm(forms.Form):
    """The second person, at your side now: they pick their name and type their
    password and the code their authenticator app shows."""

    witness = WitnessChoiceField(
        queryset=User.objects.none(),
        to_field_name="username",
        label="Witness",
        help_text="Someone else who saw it, with a witnessing role.",
    )
    witness_password = forms.CharField(
        label="Witness's password",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        strip=False,
    )
    witness_code = forms.CharField(
        label="Witness's code from their authenticator app",
        max_length=10,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}
        ),
    )
    # A witness that may be left out (an inventory's second person is recommended).
    witness_optional = False

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        field = self.fields["witness"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = witnesses_for(actor)
        if self.witness_optional:
            for name in ("witness", "witness_password", "witness_code"):
                self.fields[name].required = False

    def confirm(self) -> WitnessConfirmation | None:
        """The witness on this valid form, confirmed now (password and code).

        None, with the refusal on the field at fault, if they cannot confirm; None
        without an error when an optional witness was left out. Call it before the
        action and outside its transaction (see `confirm_witness`).
        """
        witness = self.cleaned_data.get("witness")
        if witness is None:
            if not self.witness_optional:
                self.add_error("witness", "Choose the witness.")
            return None
        try:
            return confirm_witness(
                actor=self.actor,
                witness_username=witness.username,
                password=self.cleaned_data.get("witness_password") or "",
                otp_code=self.cleaned_data.get("witness_code") or "",
            )
        except LedgerError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
            return None


class WitnessedWasteForm(WitnessForm):
    """Waste drawn drug with a witness: the volume, to 0.01 mL, and who saw it."""

    volume_ml = forms.DecimalField(
        label="Volume wasted (mL)",
        max_digits=6,
        decimal_places=2,
        min_value=Decimal(0),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    field_order = ["volume_ml", "witness", "witness_password", "witness_code"]
