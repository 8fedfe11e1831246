"""Canonical content hashing for append-only, hash-chained tables.

Used by the audit log and the controlled-substance ledger. Each row stores the
previous row's hash and a SHA-256 over its own canonical JSON (which includes
that previous hash), so editing, deleting, inserting or reordering a row breaks
the chain at that row. Standard library only.

Canonical form: JSON with sorted keys, no insignificant white space, UTF-8,
datetimes as UTC ISO 8601 with microseconds, Decimals and UUIDs as strings.
Floats are refused: their text form is not stable across databases (PostgreSQL
jsonb rewrites some of them), and quantities are Decimal anyway.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64


class _CanonicalEncoder(json.JSONEncoder):
    def default(self, o: object) -> object:
        if isinstance(o, datetime):
            if o.tzinfo is None:
                raise TypeError("naive datetime in hashed content")
            return o.astimezone(UTC).isoformat(timespec="microseconds")
        if isinstance(o, date):
            return o.isoformat()
        if isinstance(o, Decimal | UUID):
            return str(o)
        return super().default(o)

    def encode(self, o: object) -> str:
        _refuse_floats(o)
        return super().encode(o)


# Values that are neither a float nor hold values (these exact types; a subclass is
# looked into): `_refuse_floats` passes over them without a call of its own.
_PLAIN = frozenset({str, int, bool, type(None)})


def _refuse_floats(value: object) -> None:
    if isinstance(value, float):
        raise TypeError("floats are not allowed in hashed content; use Decimal")
    if isinstance(value, Mapping):
        items: Iterable[object] = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return
    for item in items:
        if type(item) not in _PLAIN:
            _refuse_floats(item)


# What `json.dumps(content, cls=_CanonicalEncoder, sort_keys=True, separators=(",",
# ":"), ensure_ascii=False)` builds on every call; an encoder keeps nothing between
# calls (each `encode` makes its own circular-reference markers), so one serves all.
_ENCODER = _CanonicalEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(content: Mapping[str, Any]) -> str:
    return _ENCODER.encode(content)


def json_safe(data: Mapping[str, Any]) -> dict[str, Any]:
    """The value `data` will have after a JSON round trip through the database."""
    if type(data) is dict and not data:
        return {}
    result: dict[str, Any] = json.loads(canonical_json(data))
    return result


def content_hash(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()
