"""Parsing FHIR search parameter values: dates with prefixes, tokens, references, paging.

Each parser raises FhirError(400) naming the parameter, never a 500.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from django.utils.dateparse import parse_datetime

from neuroclinic.interop.server.http import FhirError

DEFAULT_COUNT = 20
MAX_COUNT = 100

_PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge")
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class DateRange:
    """A date search value as a half-open UTC range [start, end) and a prefix."""

    prefix: str
    start: datetime
    end: datetime


def _month_after(year: int, month: int) -> datetime:
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def parse_date(name: str, raw: str) -> DateRange:
    prefix = raw[:2] if raw[:2] in _PREFIXES else "eq"
    text = raw[2:] if raw[:2] in _PREFIXES else raw
    try:
        if _YEAR.match(text):
            start = datetime(int(text), 1, 1, tzinfo=UTC)
            end = datetime(int(text) + 1, 1, 1, tzinfo=UTC)
        elif match := _MONTH.match(text):
            year, month = int(match[1]), int(match[2])
            start = datetime(year, month, 1, tzinfo=UTC)
            end = _month_after(year, month)
        elif _DAY.match(text):
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            end = start + timedelta(days=1)
        else:
            moment = parse_datetime(text)
            if moment is None or moment.tzinfo is None:
                raise ValueError
            start = moment
            end = moment + timedelta(seconds=1)
    except ValueError:
        raise FhirError(
            400,
            f"{name}: {text!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a"
            " dateTime with a time zone), optionally after eq, ne, lt, le, gt or ge.",
        ) from None
    return DateRange(prefix, start, end)


def parse_birthdate(name: str, raw: str) -> tuple[str, date, date]:
    """A date parameter on a date element: prefix and [first day, day after)."""
    found = parse_date(name, raw)
    return found.prefix, found.start.date(), found.end.date()


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system; "": no system
    code: str


def parse_token(name: str, raw: str) -> list[Token]:
    """A token parameter: comma-separated `[system|]code` values (any of them)."""
    tokens = []
    for part in raw.split(","):
        if not part:
            raise FhirError(400, f"{name}: an empty value.")
        if "|" in part:
            system, _, code = part.partition("|")
            tokens.append(Token(system, code))
        else:
            tokens.append(Token(None, part))
    return tokens


def parse_reference(name: str, raw: str, resource_type: str) -> UUID:
    """`Patient/<uuid>` or a bare `<uuid>`."""
    text = raw
    prefix = f"{resource_type}/"
    if text.startswith(prefix):
        text = text[len(prefix) :]
    elif "/" in text:
        raise FhirError(400, f"{name}: a reference to a {resource_type} is expected.")
    try:
        return UUID(text)
    except ValueError:
        raise FhirError(
            400, f"{name}: {raw!r} is not a {resource_type} reference."
        ) from None


MAX_REFERENCES = 100


def parse_references(name: str, raw: str, resource_type: str) -> list[UUID]:
    """One reference or several separated by commas (any of them)."""
    parts = raw.split(",")
    if len(parts) > MAX_REFERENCES:
        raise FhirError(400, f"{name}: at most {MAX_REFERENCES} references.")
    return [parse_reference(name, part, resource_type) for part in parts]


def parse_uuid(name: str, raw: str) -> UUID | None:
    """An `_id` value; an id that is not one of ours matches nothing."""
    try:
        return UUID(raw)
    except ValueError:
        return None


def parse_count(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_COUNT
    if not raw.isdigit():
        raise FhirError(400, "_count: a whole number is expected.")
    return min(int(raw), MAX_COUNT)


def parse_instant(name: str, raw: str) -> datetime:
    moment = parse_datetime(raw)
    if moment is None or moment.tzinfo is None:
        raise FhirError(400, f"{name}: an instant with a time zone is expected.")
    return moment
