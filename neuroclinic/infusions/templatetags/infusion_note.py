"""Filters for the infusion note's plain text (infusions/note.txt)."""

from datetime import datetime
from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def plain(value: Decimal | None) -> str:
    """A quantity without trailing zeros or exponent (`0.50` reads 0.5); "—" when missing."""
    return "—" if value is None else f"{value.normalize():f}"


@register.filter(expects_localtime=True)
def hm(value: datetime | None) -> str:
    """Hours and minutes in the zone of the surrounding `{% timezone %}`; "—" when missing."""
    return "—" if value is None else value.strftime("%H:%M")
