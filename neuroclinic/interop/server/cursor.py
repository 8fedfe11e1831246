"""Search page cursors: where the next page starts, sealed so a client cannot read or change it.

A search pages by keyset: the next page starts after the last row of this one (its
sort key), not at a row number, so a page is as quick deep into a result set as at
its start and does not shift when records are added before it. The cursor carries the
search itself (its parameters), the page size and the position; it is encrypted
(Fernet, a key derived from SECRET_KEY), because sort keys are patients' names and
dates and the cursor travels in the `next` link's URL. A cursor that was changed, cut
short, made under another key or for another resource type is refused with a 400
OperationOutcome.
"""

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.dateparse import parse_datetime

from neuroclinic.interop.server.http import FhirError

Params = list[tuple[str, str]]
Key = tuple[Any, ...]
_VERSION = 1
_MAX_LENGTH = 4000


@dataclass(frozen=True)
class Position:
    """Start at source `source`, at the row whose sort key is `key` (None: the
    source's first row), skipping that row's first `skip` resources."""

    source: int = 0
    key: Key | None = None
    skip: int = 0


START = Position()


@dataclass(frozen=True)
class Cursor:
    resource_type: str
    params: Params
    count: int
    position: Position


@cache
def _fernet(secret: str) -> Fernet:
    digest = salted_hmac(
        "neuroclinic.interop.cursor", "page cursor", secret=secret, algorithm="sha256"
    ).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _encode_value(value: Any) -> list[Any]:
    # bool before int: a bool is an int.
    if value is None:
        return ["n", None]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, UUID):
        return ["u", str(value)]
    if isinstance(value, Decimal):
        return ["m", str(value)]
    if isinstance(value, str):
        return ["s", value]
    raise TypeError(f"a sort key of type {type(value).__name__} cannot be paged")


def _decode_value(pair: Any) -> Any:
    tag, raw = pair
    match tag:
        case "n":
            return None
        case "b" if isinstance(raw, bool):
            return raw
        case "i" if isinstance(raw, int):
            return raw
        case "t":
            moment = parse_datetime(raw)
            if moment is None:
                raise ValueError(raw)
            return moment
        case "d":
            return date.fromisoformat(raw)
        case "u":
            return UUID(raw)
        case "m":
            return Decimal(raw)
        case "s" if isinstance(raw, str):
            return raw
    raise ValueError(tag)


def encode(cursor: Cursor) -> str:
    position = cursor.position
    payload = {
        "v": _VERSION,
        "t": cursor.resource_type,
        "q": [list(p) for p in cursor.params],
        "n": cursor.count,
        "s": position.source,
        "k": None if position.key is None else [_encode_value(v) for v in position.key],
        "j": position.skip,
    }
    data = json.dumps(payload, separators=(",", ":")).encode()
    return _fernet(settings.SECRET_KEY).encrypt(data).decode()


def _refuse() -> FhirError:
    return FhirError(
        400,
        "_cursor: this page link is not valid here (it was changed, or made for"
        " another search or by another server key); start the search again.",
    )


def decode(raw: str, resource_type: str) -> Cursor:
    """The cursor in `raw`, else FhirError(400); never a 500 whatever `raw` is."""
    if not raw or len(raw) > _MAX_LENGTH:
        raise _refuse()
    try:
        data = _fernet(settings.SECRET_KEY).decrypt(raw.encode("ascii"))
        payload = json.loads(data)
        if payload["v"] != _VERSION or payload["t"] != resource_type:
            raise ValueError("another version or type")
        params = [(str(n), str(v)) for n, v in payload["q"]]
        count, source, skip = payload["n"], payload["s"], payload["j"]
        if not all(isinstance(x, int) and x >= 0 for x in (count, source, skip)):
            raise ValueError("bad numbers")
        key = (
            None
            if payload["k"] is None
            else tuple(_decode_value(v) for v in payload["k"])
        )
    except (InvalidToken, UnicodeError, ValueError, KeyError, TypeError):
        raise _refuse() from None
    return Cursor(resource_type, params, count, Position(source, key, skip))


__all__ = ["START", "Cursor", "Key", "Position", "decode", "encode"]
