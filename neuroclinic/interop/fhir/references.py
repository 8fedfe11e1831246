"""FHIR references. FHIR ids are the model's `uuid`, never the integer primary key.

Pure module: standard library only.
"""

import re
from uuid import UUID

# FHIR R4 resource type names are UpperCamelCase ASCII letters.
_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]+")


def reference(resource_type: str, uuid: UUID) -> dict[str, str]:
    """A relative literal reference: `{"reference": "Patient/<uuid>"}`."""
    if not _RESOURCE_TYPE.fullmatch(resource_type):
        raise ValueError(f"not a FHIR resource type: {resource_type!r}")
    if not isinstance(uuid, UUID):
        raise TypeError(f"reference ids are UUIDs, not {type(uuid).__name__}")
    return {"reference": f"{resource_type}/{uuid}"}
