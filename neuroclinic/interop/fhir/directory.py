"""FHIR R4 resources for who and where (Organization, Location, Practitioner,
PractitionerRole) and for the patient's allergy and medication lists
(AllergyIntolerance, MedicationStatement). Signed documents: `documents`.

Pure functions from plain values to JSON-ready dicts, like `clinical`. No profile is
claimed here: allergies and medications are free text (no RxNorm or SNOMED code is
recorded), and staff carry no NPI in the accounts app, so the US Core profiles'
required codes and identifiers would be claims we cannot keep.

Pure module: standard library and the interop codes only.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Final
from uuid import UUID

from neuroclinic.interop.fhir.clinical import Resource, fhir_instant
from neuroclinic.interop.fhir.codes import LOCAL_BASE
from neuroclinic.interop.fhir.references import reference

STAFF_ROLES: Final = f"{LOCAL_BASE}/CodeSystem/staff-role"
_ALLERGY_CLINICAL: Final = (
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
)
_ALLERGY_VERIFICATION: Final = (
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
)
_LOCATION_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
_ORGANIZATION_TYPE: Final = "http://terminology.hl7.org/CodeSystem/organization-type"

# Allergy.Severity -> AllergyIntolerance.reaction.severity (R4 value set
# reaction-event-severity); "unknown" has no counterpart and is left out.
REACTION_SEVERITY: Final = {"mild": "mild", "moderate": "moderate", "severe": "severe"}


def _telecom(phone: str = "", email: str = "", website: str = "") -> list[Resource]:
    out: list[Resource] = []
    if phone:
        out.append({"system": "phone", "value": phone, "use": "work"})
    if email:
        out.append({"system": "email", "value": email, "use": "work"})
    if website:
        out.append({"system": "url", "value": website, "use": "work"})
    return out


def organization_resource(
    *,
    organization_id: UUID,
    name: str,
    phone: str = "",
    email: str = "",
    website: str = "",
    last_updated: datetime | None = None,
) -> Resource:
    resource: Resource = {"resourceType": "Organization", "id": str(organization_id)}
    if last_updated is not None:
        resource["meta"] = {"lastUpdated": fhir_instant(last_updated)}
    resource |= {
        "active": True,
        "type": [
            {
                "coding": [
                    {
                        "system": _ORGANIZATION_TYPE,
                        "code": "prov",
                        "display": "Healthcare Provider",
                    }
                ]
            }
        ],
        "name": name,
    }
    if telecom := _telecom(phone, email, website):
        resource["telecom"] = telecom
    return resource


def location_resource(
    *,
    location_id: UUID,
    organization_id: UUID,
    name: str,
    line1: str,
    line2: str,
    city: str,
    state: str,
    postal_code: str,
    country: str,
    phone: str,
    active: bool,
    last_updated: datetime | None = None,
) -> Resource:
    resource: Resource = {"resourceType": "Location", "id": str(location_id)}
    if last_updated is not None:
        resource["meta"] = {"lastUpdated": fhir_instant(last_updated)}
    resource |= {
        "status": "active" if active else "inactive",
        "name": name,
        "mode": "instance",
        "type": [
            {
                "coding": [
                    {
                        "system": _LOCATION_TYPE,
                        "code": "PSY",
                        "display": "Psychiatry clinic",
                    }
                ]
            }
        ],
        "address": {
            "use": "work",
            "line": [line for line in (line1, line2) if line],
            "city": city,
            "state": state,
            "postalCode": postal_code,
            "country": country,
        },
        "managingOrganization": reference("Organization", organization_id),
    }
    if telecom := _telecom(phone):
        resource["telecom"] = telecom
    return resource


def practitioner_resource(
    *,
    practitioner_id: UUID,
    family_name: str,
    given_name: str,
    title: str,
    active: bool,
) -> Resource:
    """A member of staff by name and title (MD, RN ...), nothing more: no sign-in
    name, no contact details."""
    name: Resource = {"use": "official"}
    if family_name:
        name["family"] = family_name
    if given_name:
        name["given"] = [given_name]
    if title:
        name["suffix"] = [title]
    name["text"] = " ".join(p for p in (given_name, family_name) if p) or "Staff"
    if title:
        name["text"] += f", {title}"
    return {
        "resourceType": "Practitioner",
        "id": str(practitioner_id),
        "active": active,
        "name": [name],
    }


def practitioner_role_resource(
    *,
    role_id: UUID,
    practitioner_id: UUID,
    organization_id: UUID,
    roles: Sequence[tuple[str, str]],
    location_ids: Sequence[UUID],
    active: bool,
) -> Resource:
    """A staff member's roles at the clinic (one resource per staff member; its id is
    the staff member's). `roles` is (code, label) pairs in the local staff-role system."""
    resource: Resource = {
        "resourceType": "PractitionerRole",
        "id": str(role_id),
        "active": active,
        "practitioner": reference("Practitioner", practitioner_id),
        "organization": reference("Organization", organization_id),
    }
    if roles:
        resource["code"] = [
            {
                "coding": [{"system": STAFF_ROLES, "code": code, "display": label}],
                "text": label,
            }
            for code, label in roles
        ]
    if location_ids:
        resource["location"] = [reference("Location", i) for i in location_ids]
    return resource


def allergy_resource(
    *,
    allergy_id: UUID,
    patient_id: UUID,
    substance: str,
    reaction: str,
    severity: str,
    recorded: datetime,
    recorder_id: UUID | None,
    ended: datetime | None,
    end_reason: str,
) -> Resource:
    """An allergy list entry. Entered in error: verificationStatus entered-in-error and
    no clinicalStatus (invariant ait-2); otherwise active, or resolved once ended."""
    resource: Resource = {"resourceType": "AllergyIntolerance", "id": str(allergy_id)}
    if end_reason != "entered_in_error":
        resource["clinicalStatus"] = {
            "coding": [
                {
                    "system": _ALLERGY_CLINICAL,
                    "code": "active" if ended is None else "resolved",
                }
            ]
        }
    resource["verificationStatus"] = {
        "coding": [
            {
                "system": _ALLERGY_VERIFICATION,
                "code": "entered-in-error"
                if end_reason == "entered_in_error"
                else "confirmed",
            }
        ]
    }
    resource["code"] = {"text": substance}
    resource["patient"] = reference("Patient", patient_id)
    resource["recordedDate"] = fhir_instant(recorded)
    if recorder_id is not None:
        resource["recorder"] = reference("Practitioner", recorder_id)
    if reaction:
        event: Resource = {"manifestation": [{"text": reaction}]}
        if severity in REACTION_SEVERITY:
            event["severity"] = REACTION_SEVERITY[severity]
        resource["reaction"] = [event]
    return resource


def medication_statement_resource(
    *,
    statement_id: UUID,
    patient_id: UUID,
    name: str,
    dose: str,
    recorded: datetime,
    recorder_id: UUID | None,
    ended: datetime | None,
    end_reason: str,
) -> Resource:
    """A medication the patient reports taking (the chart's medication list)."""
    if end_reason == "entered_in_error":
        status = "entered-in-error"
    else:
        status = "active" if ended is None else "completed"
    resource: Resource = {
        "resourceType": "MedicationStatement",
        "id": str(statement_id),
        "status": status,
        "medicationCodeableConcept": {"text": name},
        "subject": reference("Patient", patient_id),
        "dateAsserted": fhir_instant(recorded),
    }
    if recorder_id is not None:
        resource["informationSource"] = reference("Practitioner", recorder_id)
    if ended is not None and status == "completed":
        resource["effectivePeriod"] = {"end": fhir_instant(ended)}
    if dose:
        resource["dosage"] = [{"text": dose}]
    return resource
