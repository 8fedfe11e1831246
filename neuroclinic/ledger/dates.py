"""The ledger's calendar: the DEA reads dates at the registered location, not in UTC."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from neuroclinic.ledger.models import Registrant


def local_date(registrant: Registrant, moment: datetime) -> date:
    """The calendar date at the registered location (what the DEA reads)."""
    return moment.astimezone(ZoneInfo(registrant.location.time_zone)).date()
