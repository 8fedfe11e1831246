"""Field helpers every ledger model uses: two-place quantities, DEA numbers, schedules."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from neuroclinic.ledger.rules import LedgerRuleError, validate_dea_number

TWO_PLACES = Decimal("0.01")


def quantity_field(
    verbose_name: str | None = None, **kwargs: Any
) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **kwargs)


def dea_number_validator(value: str) -> None:
    try:
        validate_dea_number(value)
    except LedgerRuleError as exc:
        raise ValidationError(exc.message, code=str(exc.code)) from None


def as_quantity(value: Decimal | int | None) -> str | None:
    """The canonical text of a quantity in hashed content: always two places."""
    if value is None:
        return None
    return str(Decimal(value).quantize(TWO_PLACES))


class Schedule(models.TextChoices):
    CII = "CII", "Schedule II"
    CIII = "CIII", "Schedule III"
    CIV = "CIV", "Schedule IV"
    CV = "CV", "Schedule V"
