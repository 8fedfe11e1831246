"""SMART on FHIR system scopes: which resource types a scope string lets a client read.

SMART App Launch 1 (`system/Patient.read`, `system/*.read`) and 2 (`system/Patient.rs`,
`system/*.rs`, `system/Patient.r`). Only reads: this server writes through no scope.

Pure module: standard library only.
"""

import re
from collections.abc import Iterable

_SCOPE = re.compile(
    r"^system/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<access>read|\*|[cruds]+)$"
)


def readable(scope: str) -> str | None:
    """The resource type (or "*") a scope lets its holder read; None if none or not a scope."""
    match = _SCOPE.match(scope)
    if match is None:
        return None
    access = match["access"]
    if access in ("read", "*") or "r" in access:
        return match["type"]
    return None


def granted(requested: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The requested read scopes that an allowed scope covers, in the order asked."""
    allowed_types = {readable(s) for s in allowed} - {None}
    out = []
    for scope in requested:
        kind = readable(scope)
        if kind is not None and ("*" in allowed_types or kind in allowed_types):
            out.append(scope)
    return out


def may_read(scopes: Iterable[str], resource_type: str) -> bool:
    return any(readable(s) in ("*", resource_type) for s in scopes)
