"""Helpers every billing action shares: numbers, current prices, rule errors."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import BillingIdentity, NumberSequence, Price, Service
from neuroclinic.billing.rules import BillingRuleError, money


def next_number(organization_id: int, prefix: str) -> str:
    sequence, _ = NumberSequence.objects.select_for_update().get_or_create(
        organization_id=organization_id, prefix=prefix
    )
    number = sequence.next_number
    sequence.next_number = number + 1
    sequence.save(update_fields=["next_number"])
    return f"{prefix}-{number:06d}"


def checked_money(value: Decimal | str, *, field: str) -> Decimal:
    try:
        return money(value, field=field)
    except BillingRuleError as exc:
        raise BillingError.from_rule(exc) from None


def current_price(organization_id: int, key: str) -> Price:
    price = (
        Price.objects.filter(service__organization_id=organization_id, service__key=key)
        .select_related("service")
        .order_by("-version")
        .first()
    )
    if price is None:
        label = Service.Key(key).label
        raise BillingError(
            f"{label} has no price yet: set it on the price list first.",
            field="price",
            code="no_price",
        )
    return price


def rule[T](check: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a pure rule; its refusal becomes a BillingError naming the field."""
    try:
        return check(*args, **kwargs)
    except BillingRuleError as exc:
        raise BillingError.from_rule(exc) from None


def identity_of(organization_id: int) -> BillingIdentity:
    """The practice's current billing identity (legal name, tax id, NPI)."""
    identity = (
        BillingIdentity.objects.filter(organization_id=organization_id)
        .order_by("-created_at", "-id")
        .first()
    )
    if identity is None:
        raise BillingError(
            "Set up the practice's billing identity (legal name, tax id) first.",
            field="identity",
            code="no_identity",
        )
    return identity
