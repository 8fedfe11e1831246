"""Witness confirmation: a second person, present now, proves it with password and TOTP.

`confirm_witness` is the only door to a `WitnessConfirmation` for people (the demo
loader makes synthetic ones). Call it *before* the action, outside the action's
transaction: a wrong code must count against the witness's authenticator
(django-otp's throttling) even though the action writes nothing.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from neuroclinic.accounts.models import User
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
    device = TOTPDevice.objects.filter(user=witness, confirmed=True).first()
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
