"""What every ledger API handler does first: authenticate and check the capability
(before the body is parsed), find the caller's own objects by UUID, confirm a
witness, and turn a refusal into a 422 naming the field."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja.errors import HttpError

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.api_auth import staff_auth
from neuroclinic.api_errors import FieldErrors
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.schemas import WitnessIn
from neuroclinic.ledger.witness import WitnessConfirmation, confirm_witness


class Needs:
    """Operation auth: the API's own authenticators, then the capability.

    Checked before the body is parsed, so a role without the capability gets
    403, never a 422 about a body it may not send.
    """

    def __init__(self, capability: Capability) -> None:
        self.capability = capability

    def __call__(self, request: HttpRequest) -> User | None:
        for authenticate in staff_auth():
            user = authenticate(request)
            if isinstance(user, User):
                if not user.can(self.capability):
                    raise HttpError(403, "Your role does not allow this.")
                return user
        return None


def staff_user(request: HttpRequest, capability: Capability) -> User:
    user = request.user
    assert isinstance(user, User)  # the API's auth guarantees a signed-in staff user
    if not user.can(capability):
        raise HttpError(403, "Your role does not allow this.")
    return user


def get_own[M: Model](
    model: type[M], user: User, uuid: UUID | str, **filters: Any
) -> M:
    """An object of the caller's organization, or 404 (not-found and not-yours look alike)."""
    manager: QuerySet[M] = model._default_manager.all()
    return get_object_or_404(
        manager, uuid=uuid, organization_id=user.organization_pk, **filters
    )


@contextmanager
def refusals() -> Iterator[None]:
    """A refused action answers 422 naming the field; nothing was written."""
    try:
        yield
    except LedgerError as exc:
        field = "body" if exc.field == "__all__" else exc.field
        raise FieldErrors({field: [exc.message]}) from None


def confirmed_witness(
    user: User, witness: WitnessIn, *, prefix: str = "witness"
) -> WitnessConfirmation:
    try:
        return confirm_witness(
            actor=user,
            witness_username=witness.username,
            password=witness.password,
            otp_code=witness.otp_code,
        )
    except LedgerError as exc:
        field = {
            "witness": f"{prefix}.username",
            "witness_password": f"{prefix}.password",
            "witness_code": f"{prefix}.otp_code",
        }.get(exc.field, prefix)
        raise FieldErrors({field: [exc.message]}) from None
