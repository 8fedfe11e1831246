"""FHIR R4 Patient, Condition, Encounter, MedicationAdministration, vital-sign
Observations and Consent, from plain values (docs/fhir.md, "Clinical resources").

A profile is claimed in `meta.profile` only where the resource carries every element
the profile requires: US Core Patient, US Core Condition Problems and Health Concerns,
and the US Core and base FHIR vital-signs profiles. Encounter, MedicationAdministration
and Consent claim none (US Core 6.1 has no MedicationAdministration or Consent profile,
and its Encounter profile wants a coded type we do not keep).

Pure module: standard library only.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from neuroclinic.interop.fhir.codes import (
    AUDIT_C_TOTAL,
    BLOOD_PRESSURE_PANEL,
    BODY_HEIGHT,
    BODY_TEMPERATURE,
    BODY_WEIGHT,
    DAST10_TOTAL,
    DIASTOLIC_BP,
    END_TIDAL_CO2,
    GAD7_TOTAL,
    HEART_RATE,
    LOCAL_BASE,
    LOINC,
    MM_HG,
    PER_MINUTE,
    PERCENT,
    PHQ2_TOTAL,
    PHQ9_TOTAL,
    RESPIRATORY_RATE,
    SNOMED,
    SPO2_ARTERIAL,
    SPO2_PULSE_OXIMETRY,
    SURVEY,
    SYSTOLIC_BP,
    UCUM,
    VITAL_SIGNS,
    Coding,
    loinc,
)
from neuroclinic.interop.fhir.references import reference

Resource = dict[str, Any]

US_CORE: Final = "http://hl7.org/fhir/us/core/StructureDefinition"
PATIENT_PROFILE: Final = f"{US_CORE}/us-core-patient"
CONDITION_PROFILE: Final = f"{US_CORE}/us-core-condition-problems-health-concerns"
MRN_SYSTEM: Final = f"{LOCAL_BASE}/sid/mrn"
ICD10_CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
KETAMINE: Final = Coding(RXNORM, "6130", "ketamine")
INTRAVENOUS: Final = Coding(SNOMED, "47625008", "Intravenous route")
_V2_0203: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"
_CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_CONDITION_VERIFICATION: Final = (
    "http://terminology.hl7.org/CodeSystem/condition-ver-status"
)
_CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"
_ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_CONSENT_SCOPE: Final = "http://terminology.hl7.org/CodeSystem/consentscope"

# Patient.gender is administrative gender; the clinic records sex at birth, which
# maps onto it except "intersex" (other) and "declined" (unknown).
GENDER_FROM_SEX: Final = {
    "female": "female",
    "male": "male",
    "intersex": "other",
    "unknown": "unknown",
    "declined": "unknown",
}

# Infusion session status -> Encounter.status (R4 value set encounter-status).
ENCOUNTER_STATUS: Final = {
    "checked_in": "arrived",
    "running": "in-progress",
    "paused": "in-progress",
    "recovery": "in-progress",
    "discharged": "finished",
    "closed": "finished",
    "cancelled": "cancelled",
}


def fhir_instant(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _quantity(value: Decimal | int, unit: str, code: str) -> Resource:
    # JSON numbers: a Decimal becomes an int when whole, else a float (one or two
    # decimal places here, which a float round-trips exactly as printed).
    number: int | float
    if isinstance(value, Decimal):
        number = int(value) if value == value.to_integral_value() else float(value)
    else:
        number = value
    return {"value": number, "unit": unit, "system": UCUM, "code": code}


# Patient ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientFacts:
    id: UUID
    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex_at_birth: str
    middle_name: str = ""
    preferred_name: str = ""
    phone: str = ""
    email: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    preferred_language: str = ""
    last_updated: datetime | None = None
    # Other systems' identifiers (system, value), as imported.
    identifiers: tuple[tuple[str, str], ...] = ()


def patient_resource(p: PatientFacts) -> Resource:
    """US Core Patient: identifier (the MRN), name, gender are always present."""
    if p.sex_at_birth not in GENDER_FROM_SEX:
        raise ValueError(f"unknown sex at birth {p.sex_at_birth!r}")
    given = [p.given_name] + ([p.middle_name] if p.middle_name else [])
    names: list[Resource] = [
        {"use": "official", "family": p.family_name, "given": given}
    ]
    if p.preferred_name:
        names.append({"use": "usual", "given": [p.preferred_name]})
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(p.id),
        "meta": {"profile": [PATIENT_PROFILE]},
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [{"system": _V2_0203, "code": "MR"}]},
                "system": MRN_SYSTEM,
                "value": p.mrn,
            },
            *({"system": system, "value": value} for system, value in p.identifiers),
        ],
        "name": names,
        "gender": GENDER_FROM_SEX[p.sex_at_birth],
        "birthDate": p.birth_date.isoformat(),
    }
    if p.last_updated is not None:
        resource["meta"]["lastUpdated"] = fhir_instant(p.last_updated)
    telecom = []
    if p.phone:
        telecom.append({"system": "phone", "value": p.phone})
    if p.email:
        telecom.append({"system": "email", "value": p.email})
    if telecom:
        resource["telecom"] = telecom
    if p.address_line1 or p.city or p.postal_code:
        address: Resource = {"use": "home"}
        lines = [line for line in (p.address_line1, p.address_line2) if line]
        if lines:
            address["line"] = lines
        for key, value in (
            ("city", p.city),
            ("state", p.state),
            ("postalCode", p.postal_code),
        ):
            if value:
                address[key] = value
        resource["address"] = [address]
    if p.preferred_language:
        resource["communication"] = [{"language": {"text": p.preferred_language}}]
    return resource


# Condition -------------------------------------------------------------------------


def condition_resource(
    *,
    condition_id: UUID,
    patient_id: UUID,
    icd10_code: str,
    description: str,
    recorded: datetime,
    ended: datetime | None,
    end_reason: str,
) -> Resource:
    """A diagnosis on the problem list (US Core Condition Problems and Health Concerns).

    An entry ended as entered in error has verificationStatus entered-in-error and no
    clinicalStatus (invariant con-5); one ended otherwise is resolved.
    """
    resource: Resource = {
        "resourceType": "Condition",
        "id": str(condition_id),
        "meta": {"profile": [CONDITION_PROFILE]},
    }
    if end_reason == "entered_in_error":
        verification = "entered-in-error"
    else:
        verification = "confirmed"
        clinical = "active" if ended is None else "resolved"
        resource["clinicalStatus"] = {
            "coding": [{"system": _CONDITION_CLINICAL, "code": clinical}]
        }
    resource["verificationStatus"] = {
        "coding": [{"system": _CONDITION_VERIFICATION, "code": verification}]
    }
    resource["category"] = [
        {
            "coding": [
                {
                    "system": _CONDITION_CATEGORY,
                    "code": "problem-list-item",
                    "display": "Problem List Item",
                }
            ]
        }
    ]
    resource["code"] = {
        "coding": [{"system": ICD10_CM, "code": icd10_code, "display": description}],
        "text": description,
    }
    resource["subject"] = reference("Patient", patient_id)
    resource["recordedDate"] = fhir_instant(recorded)
    if ended is not None and end_reason != "entered_in_error":
        resource["abatementDateTime"] = fhir_instant(ended)
    return resource


# Encounter -------------------------------------------------------------------------


def encounter_resource(
    *,
    encounter_id: UUID,
    patient_id: UUID,
    status: str,
    start: datetime,
    end: datetime | None,
    sequence_number: int,
    sequence_total: int,
    location_name: str,
) -> Resource:
    """An infusion session: an ambulatory encounter, checked in to discharge or close."""
    if status not in ENCOUNTER_STATUS:
        raise ValueError(f"unknown session status {status!r}")
    period: Resource = {"start": fhir_instant(start)}
    if end is not None:
        period["end"] = fhir_instant(end)
    resource: Resource = {
        "resourceType": "Encounter",
        "id": str(encounter_id),
        "status": ENCOUNTER_STATUS[status],
        "class": {"system": _ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [
            {
                "text": f"Ketamine infusion {sequence_number} of {sequence_total}",
            }
        ],
        "subject": reference("Patient", patient_id),
        "period": period,
    }
    if location_name:
        resource["location"] = [{"location": {"display": location_name}}]
    return resource


# MedicationAdministration ----------------------------------------------------------


def medication_administration_resource(
    *,
    administration_id: UUID,
    patient_id: UUID,
    encounter_id: UUID | None,
    performer_id: UUID,
    dose_mg: Decimal,
    start: datetime | None,
    end: datetime,
    rate_ml_per_hour: Decimal | None,
    reversed_: bool,
) -> Resource:
    """One ketamine dose (RxNorm 6130) given intravenously, as the ledger recorded it.

    A ledger administration later reversed is `entered-in-error` (the ledger keeps both).
    """
    if dose_mg < 0:
        raise ValueError("dose_mg must not be negative")
    effective: Resource
    if start is not None and start <= end:
        effective = {
            "effectivePeriod": {"start": fhir_instant(start), "end": fhir_instant(end)}
        }
    else:
        effective = {"effectiveDateTime": fhir_instant(end)}
    dosage: Resource = {
        "route": {"coding": [INTRAVENOUS.as_dict()]},
        "dose": _quantity(dose_mg, "mg", "mg"),
    }
    if rate_ml_per_hour is not None:
        dosage["rateQuantity"] = _quantity(rate_ml_per_hour, "mL/h", "mL/h")
    resource: Resource = {
        "resourceType": "MedicationAdministration",
        "id": str(administration_id),
        "status": "entered-in-error" if reversed_ else "completed",
        "medicationCodeableConcept": {
            "coding": [KETAMINE.as_dict()],
            "text": "Ketamine (IV infusion)",
        },
        "subject": reference("Patient", patient_id),
        **effective,
        "performer": [{"actor": reference("Practitioner", performer_id)}],
        "dosage": dosage,
    }
    if encounter_id is not None:
        resource["context"] = reference("Encounter", encounter_id)
    return resource


# Vital signs -----------------------------------------------------------------------

# What one reading becomes: (suffix of the Observation id, the US Core profile).
VITAL_KINDS: Final = {
    "bp": "us-core-blood-pressure",
    "hr": "us-core-heart-rate",
    "spo2": "us-core-pulse-oximetry",
    "rr": "us-core-respiratory-rate",
}
_BASE_VITALS: Final = {
    "bp": "bp",
    "hr": "heartrate",
    "spo2": "oxygensat",
    "rr": "resprate",
}
# Which LOINC codes find which kind in a `code` search.
VITAL_CODES: Final = {
    BLOOD_PRESSURE_PANEL.code: "bp",
    SYSTOLIC_BP.code: "bp",
    DIASTOLIC_BP.code: "bp",
    HEART_RATE.code: "hr",
    SPO2_PULSE_OXIMETRY.code: "spo2",
    SPO2_ARTERIAL.code: "spo2",
    RESPIRATORY_RATE.code: "rr",
    END_TIDAL_CO2.code: "etco2",
}
# Kinds recorded only sometimes (a capnograph is not on every chair): exported only for
# readings that carry them, and with no US Core profile (none exists for EtCO2).
OPTIONAL_VITAL_KINDS: Final = ("etco2",)
ALL_VITAL_KINDS: Final = (*VITAL_KINDS, *OPTIONAL_VITAL_KINDS)


@dataclass(frozen=True)
class VitalFacts:
    id_prefix: str  # "<session uuid>-<reading key>": the Observation ids add "-bp" etc.
    patient_id: UUID
    encounter_id: UUID
    taken_at: datetime
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int
    spo2_percent: int
    respiratory_rate_per_min: int
    etco2_mmhg: int | None = None


def _vital(
    facts: VitalFacts, kind: str, codings: Sequence[Coding], text: str
) -> Resource:
    resource: Resource = {
        "resourceType": "Observation",
        "id": f"{facts.id_prefix}-{kind}",
    }
    if kind in VITAL_KINDS:
        resource["meta"] = {
            "profile": [
                f"{US_CORE}/{VITAL_KINDS[kind]}",
                f"http://hl7.org/fhir/StructureDefinition/{_BASE_VITALS[kind]}",
            ]
        }
    return resource | {
        "status": "final",
        "category": [{"coding": [VITAL_SIGNS.as_dict()], "text": "Vital Signs"}],
        "code": {"coding": [c.as_dict() for c in codings], "text": text},
        "subject": reference("Patient", facts.patient_id),
        "encounter": reference("Encounter", facts.encounter_id),
        "effectiveDateTime": fhir_instant(facts.taken_at),
    }


def vital_observations(
    facts: VitalFacts, kinds: Sequence[str] = tuple(VITAL_KINDS)
) -> list[Resource]:
    """One reading as up to five Observations (blood pressure, heart rate, SpO2, RR,
    and EtCO2 when the reading has it)."""
    out: list[Resource] = []
    for kind in kinds:
        if kind == "bp":
            bp = _vital(facts, kind, [BLOOD_PRESSURE_PANEL], "Blood pressure")
            bp["component"] = [
                {
                    "code": {"coding": [SYSTOLIC_BP.as_dict()]},
                    "valueQuantity": _quantity(facts.systolic_mmhg, "mmHg", MM_HG),
                },
                {
                    "code": {"coding": [DIASTOLIC_BP.as_dict()]},
                    "valueQuantity": _quantity(facts.diastolic_mmhg, "mmHg", MM_HG),
                },
            ]
            out.append(bp)
        elif kind == "hr":
            hr = _vital(facts, kind, [HEART_RATE], "Heart rate")
            hr["valueQuantity"] = _quantity(facts.heart_rate_bpm, "/min", PER_MINUTE)
            out.append(hr)
        elif kind == "spo2":
            spo2 = _vital(
                facts, kind, [SPO2_PULSE_OXIMETRY, SPO2_ARTERIAL], "Oxygen saturation"
            )
            spo2["valueQuantity"] = _quantity(facts.spo2_percent, "%", PERCENT)
            out.append(spo2)
        elif kind == "rr":
            rr = _vital(facts, kind, [RESPIRATORY_RATE], "Respiratory rate")
            rr["valueQuantity"] = _quantity(
                facts.respiratory_rate_per_min, "/min", PER_MINUTE
            )
            out.append(rr)
        elif kind == "etco2":
            if facts.etco2_mmhg is None:
                continue
            co2 = _vital(facts, kind, [END_TIDAL_CO2], "End-tidal CO2")
            co2["valueQuantity"] = _quantity(facts.etco2_mmhg, "mmHg", MM_HG)
            out.append(co2)
        else:
            raise ValueError(f"unknown vital kind {kind!r}")
    return out


# Imported observations ---------------------------------------------------------------

# Imported observations are served with ids of their own form, so an id says which
# table it is read from (a score Observation's id is a bare response UUID, a session
# vital's `<session>-<reading>-<kind>`).
IMPORTED_ID_PREFIX: Final = "imported-"
# Survey totals an import keeps (outside scores), by LOINC code.
IMPORTED_SURVEY_CODES: Final = frozenset(
    c.code for c in (PHQ9_TOTAL, PHQ2_TOTAL, GAD7_TOTAL, AUDIT_C_TOTAL, DAST10_TOTAL)
)
# The profiles an imported single-value vital sign meets (US Core 6.1, base FHIR).
# Systolic or diastolic pressure alone, SpO2 under one code and EtCO2 meet none of
# the specific ones (the blood-pressure and pulse-oximetry profiles want a panel or
# both codes), so they claim the generic base vital-signs profile only.
_IMPORTED_PROFILES: Final = {
    HEART_RATE.code: ("us-core-heart-rate", "heartrate"),
    RESPIRATORY_RATE.code: ("us-core-respiratory-rate", "resprate"),
    BODY_WEIGHT.code: ("us-core-body-weight", "bodyweight"),
    BODY_HEIGHT.code: ("us-core-body-height", "bodyheight"),
    BODY_TEMPERATURE.code: ("us-core-body-temperature", "bodytemp"),
}
_BASE_PROFILE: Final = "http://hl7.org/fhir/StructureDefinition"
_UNIT_SHOWN: Final = {MM_HG: "mmHg"}


@dataclass(frozen=True)
class ImportedFacts:
    id: UUID
    patient_id: UUID
    loinc_code: str
    name: str
    value: Decimal
    unit: str  # UCUM
    effective_at: datetime
    imported_at: datetime


def imported_observation_id(row_id: UUID) -> str:
    return f"{IMPORTED_ID_PREFIX}{row_id}"


def imported_observation_resource(f: ImportedFacts) -> Resource:
    """One imported value as an Observation: a vital sign (category vital-signs,
    the US Core and base profiles where one applies) or an outside questionnaire
    total (category survey, `{score}`). `meta.lastUpdated` is when it was imported."""
    meta: Resource = {"lastUpdated": fhir_instant(f.imported_at)}
    if f.loinc_code in IMPORTED_SURVEY_CODES:
        category = {"coding": [SURVEY.as_dict()], "text": "Survey"}
    else:
        category = {"coding": [VITAL_SIGNS.as_dict()], "text": "Vital Signs"}
        specific = _IMPORTED_PROFILES.get(f.loinc_code)
        meta["profile"] = (
            [f"{US_CORE}/{specific[0]}", f"{_BASE_PROFILE}/{specific[1]}"]
            if specific
            else [f"{_BASE_PROFILE}/vitalsigns"]
        )
    return {
        "resourceType": "Observation",
        "id": imported_observation_id(f.id),
        "meta": meta,
        "status": "final",
        "category": [category],
        "code": {"coding": [loinc(f.loinc_code).as_dict()], "text": f.name},
        "subject": reference("Patient", f.patient_id),
        "effectiveDateTime": fhir_instant(f.effective_at),
        "valueQuantity": _quantity(f.value, _UNIT_SHOWN.get(f.unit, f.unit), f.unit),
    }


# Consent ---------------------------------------------------------------------------

CONSENT_SCOPES: Final = {
    "ketamine": "treatment",
    "tms": "treatment",
    "privacy": "patient-privacy",
    "financial": "treatment",
    "communication": "patient-privacy",
}


def consent_resource(
    *,
    consent_id: UUID,
    patient_id: UUID,
    kind: str,
    title: str,
    document_id: UUID,
    document_version: int,
    signed_at: datetime,
) -> Resource:
    """A signed consent form version. `policy` points at the form version signed."""
    if kind not in CONSENT_SCOPES:
        raise ValueError(f"unknown consent kind {kind!r}")
    scope = CONSENT_SCOPES[kind]
    return {
        "resourceType": "Consent",
        "id": str(consent_id),
        "status": "active",
        "scope": {"coding": [{"system": _CONSENT_SCOPE, "code": scope}]},
        "category": [{"coding": [{"system": LOINC, "code": "59284-0"}], "text": title}],
        "patient": reference("Patient", patient_id),
        "dateTime": fhir_instant(signed_at),
        "policy": [
            {"uri": f"{LOCAL_BASE}/ConsentDocument/{document_id}|{document_version}"}
        ],
    }


# OperationOutcome and Bundle -------------------------------------------------------


def operation_outcome(
    issues: Sequence[tuple[str, str, str]] | Sequence[tuple[str, str, str, str]],
) -> Resource:
    """(severity, code, diagnostics[, expression]) per issue."""
    listed: list[Resource] = []
    for issue in issues:
        entry: Resource = {
            "severity": issue[0],
            "code": issue[1],
            "diagnostics": issue[2],
        }
        if len(issue) > 3:
            entry["expression"] = [issue[3]]
        listed.append(entry)
    return {"resourceType": "OperationOutcome", "issue": listed}
