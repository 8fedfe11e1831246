"""Reading FHIR resources sent to us: a transaction or batch Bundle of Patient,
Condition, AllergyIntolerance, MedicationStatement, MedicationRequest, vital-sign
and questionnaire-total Observations and QuestionnaireResponse, and a QuestionnaireResponse on its own
(docs/fhir.md, "Import").

Each resource we keep is first validated against the FHIR R4B structure definitions
(fhir.resources: datatypes, cardinality, real dates), then read into plain values or a
list of `Problem`s naming the element at fault (a FHIRPath expression such as
`Bundle.entry[2].resource.birthDate`). A resource we do not keep (Encounter, Claim, a
laboratory Observation, a stopped medication) is `Skipped` with the reason, not an
error. Nothing here touches the database; the import action resolves references and
duplicates.

Pure module: standard library, fhir.resources and the pure `neuroclinic.measures`
package only.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from neuroclinic.interop.fhir.clinical import ICD10_CM, MRN_SYSTEM
from neuroclinic.interop.fhir.codes import (
    AUDIT_C_TOTAL,
    BLOOD_PRESSURE_PANEL,
    BODY_HEIGHT,
    BODY_TEMPERATURE,
    BODY_WEIGHT,
    CELSIUS,
    CENTIMETRE,
    DAST10_TOTAL,
    DIASTOLIC_BP,
    END_TIDAL_CO2,
    GAD7_TOTAL,
    HEART_RATE,
    KILOGRAM,
    LOCAL_BASE,
    LOINC,
    MM_HG,
    PER_MINUTE,
    PERCENT,
    PHQ2_TOTAL,
    PHQ9_TOTAL,
    RESPIRATORY_RATE,
    SCORE,
    SPO2_ARTERIAL,
    SPO2_PULSE_OXIMETRY,
    SYSTOLIC_BP,
    questionnaire_url,
)
from neuroclinic.interop.fhir.questionnaires import answer_coding
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    Instrument,
    InvalidResponse,
    Item,
    score,
)

IMPORTED_TYPES = (
    "Patient",
    "Condition",
    "AllergyIntolerance",
    "MedicationStatement",
    "MedicationRequest",
    "Observation",
    "QuestionnaireResponse",
)
# On a Patient: the sender has checked that this is a different person from a
# likely duplicate (same birth date, similar name) and wants a second record.
CONFIRMED_NOT_DUPLICATE_URL: Final = (
    f"{LOCAL_BASE}/StructureDefinition/confirmed-not-duplicate"
)
# Vital signs we keep, by LOINC code: (name, UCUM unit, largest plausible value).
VITAL_SIGNS: Final = {
    SYSTOLIC_BP.code: ("Systolic blood pressure", MM_HG, Decimal(300)),
    DIASTOLIC_BP.code: ("Diastolic blood pressure", MM_HG, Decimal(250)),
    HEART_RATE.code: ("Heart rate", PER_MINUTE, Decimal(300)),
    RESPIRATORY_RATE.code: ("Respiratory rate", PER_MINUTE, Decimal(100)),
    SPO2_PULSE_OXIMETRY.code: ("Oxygen saturation", PERCENT, Decimal(100)),
    SPO2_ARTERIAL.code: ("Oxygen saturation", PERCENT, Decimal(100)),
    END_TIDAL_CO2.code: ("End-tidal CO2", MM_HG, Decimal(150)),
    BODY_WEIGHT.code: ("Body weight", KILOGRAM, Decimal(700)),
    BODY_HEIGHT.code: ("Body height", CENTIMETRE, Decimal(300)),
    BODY_TEMPERATURE.code: ("Body temperature", CELSIUS, Decimal(50)),
}
# Outside questionnaire totals we keep (a score from another service, with no
# item-level answers), by LOINC code: (name, UCUM {score}, the instrument's maximum).
SURVEY_TOTALS: Final = {
    PHQ9_TOTAL.code: ("PHQ-9 total score", SCORE, Decimal(27)),
    PHQ2_TOTAL.code: ("PHQ-2 total score", SCORE, Decimal(6)),
    GAD7_TOTAL.code: ("GAD-7 total score", SCORE, Decimal(21)),
    AUDIT_C_TOTAL.code: ("AUDIT-C total score", SCORE, Decimal(12)),
    DAST10_TOTAL.code: ("DAST-10 total score", SCORE, Decimal(10)),
}
_KEPT_OBSERVATIONS: Final = VITAL_SIGNS | SURVEY_TOTALS
_OBSERVATION_STATUSES_KEPT = ("final", "amended", "corrected")
_ALLERGY_SEVERITIES = ("mild", "moderate", "severe")
# Statuses of a medication the patient takes now; the others (stopped, completed,
# cancelled, entered-in-error, not-taken...) are not on a current medication list.
_CURRENT_MEDICATION: Final = {
    "MedicationStatement": ("active", "intended", "on-hold"),
    "MedicationRequest": ("active", "on-hold"),
}
_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")
_SEX_FROM_GENDER = {
    "female": "female",
    "male": "male",
    "other": "unknown",
    "unknown": "unknown",
}
_BIRTH_SEX_URL = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"
_SEX_FROM_BIRTH_SEX = {"F": "female", "M": "male", "UNK": "unknown"}


@dataclass(frozen=True)
class Problem:
    expression: str
    message: str
    # The HTTP status a batch answers this entry with: 422 for bad content, 404 for
    # a reference to nothing we have, 409 for a likely duplicate patient, 424 for an
    # entry whose Patient (earlier in the Bundle) failed.
    status: int = 422


@dataclass(frozen=True)
class PatientIn:
    family_name: str
    given_name: str
    birth_date: date
    sex_at_birth: str
    details: dict[str, str]
    mrn: str = ""  # our own MRN when the sender quotes it (identifier, MRN_SYSTEM)
    resource_id: str = ""  # Patient.id: ours is the patient's UUID
    allow_duplicate: bool = False
    # Other systems' identifiers, (system, value): kept, and matched on re-import.
    identifiers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ConditionIn:
    subject: str  # the reference as written: "urn:uuid:..." or "Patient/<uuid>"
    icd10_code: str
    description: str


@dataclass(frozen=True)
class ResponseIn:
    subject: str
    instrument_code: str
    answers: dict[str, int]
    authored: datetime


@dataclass(frozen=True)
class AllergyIn:
    subject: str
    substance: str
    reaction: str
    severity: str


@dataclass(frozen=True)
class MedicationIn:
    subject: str
    name: str
    dose: str


@dataclass(frozen=True)
class VitalValue:
    code: str  # LOINC
    name: str
    value: Decimal
    unit: str  # UCUM


@dataclass(frozen=True)
class ObservationIn:
    subject: str
    values: tuple[VitalValue, ...]  # a blood-pressure panel gives two
    effective: datetime


@dataclass(frozen=True)
class Skipped:
    reason: str


Value = PatientIn | ConditionIn | AllergyIn | MedicationIn | ObservationIn | ResponseIn


@dataclass
class Entry:
    """One entry of the Bundle: a value to write, or the problems, or why skipped."""

    index: int
    full_url: str
    resource_type: str
    value: Value | Skipped | None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ParsedBundle:
    type: str = ""
    entries: list[Entry] = field(default_factory=list)
    # Problems with the Bundle itself (not a Bundle, no entries): nothing to do.
    problems: list[Problem] = field(default_factory=list)


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_patient(resource: Mapping[str, Any], at: str) -> PatientIn | list[Problem]:
    problems: list[Problem] = []
    names = resource.get("name")
    name: Mapping[str, Any] = {}
    if isinstance(names, list) and names:
        official = [
            n for n in names if isinstance(n, dict) and n.get("use") == "official"
        ]
        first = official[0] if official else names[0]
        name = first if isinstance(first, dict) else {}
    family = _str(name.get("family"))
    raw_given = name.get("given")
    givens: list[Any] = raw_given if isinstance(raw_given, list) else []
    given_names = [_str(g) for g in givens if _str(g)]
    if not family:
        problems.append(Problem(f"{at}.name", "A family name is required."))
    if not given_names:
        problems.append(Problem(f"{at}.name", "A given name is required."))
    birth_date = None
    try:
        birth_date = date.fromisoformat(_str(resource.get("birthDate")))
    except ValueError:
        problems.append(
            Problem(f"{at}.birthDate", "A full birth date (YYYY-MM-DD) is required.")
        )
    sex = _SEX_FROM_GENDER.get(_str(resource.get("gender")))
    for extension in resource.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == _BIRTH_SEX_URL:
            sex = _SEX_FROM_BIRTH_SEX.get(_str(extension.get("valueCode")), sex)
    if sex is None:
        problems.append(
            Problem(f"{at}.gender", "gender must be female, male, other or unknown.")
        )
    if problems:
        return problems
    assert birth_date is not None
    assert sex is not None
    details: dict[str, str] = {}
    if len(given_names) > 1:
        details["middle_name"] = " ".join(given_names[1:])[:100]
    for telecom in resource.get("telecom") or []:
        if not isinstance(telecom, dict):
            continue
        if telecom.get("system") == "phone" and "phone" not in details:
            details["phone"] = _str(telecom.get("value"))[:30]
        if telecom.get("system") == "email" and "email" not in details:
            details["email"] = _str(telecom.get("value"))[:200]
    addresses = resource.get("address") or []
    if addresses and isinstance(addresses[0], dict):
        address = addresses[0]
        lines = [_str(line) for line in address.get("line") or [] if _str(line)]
        if lines:
            details["address_line1"] = lines[0][:200]
        if len(lines) > 1:
            details["address_line2"] = ", ".join(lines[1:])[:200]
        for key, element, size in (
            ("city", "city", 100),
            ("state", "state", 50),
            ("postal_code", "postalCode", 20),
        ):
            if _str(address.get(element)):
                details[key] = _str(address.get(element))[:size]
    mrn = ""
    others: list[tuple[str, str]] = []
    for n, identifier in enumerate(resource.get("identifier") or []):
        if not isinstance(identifier, dict):
            continue
        system, number = _str(identifier.get("system")), _str(identifier.get("value"))
        if system == MRN_SYSTEM:
            mrn = number[:20]
        elif not system or not number:
            # Without a system a value names nothing we could match again.
            problems.append(
                Problem(
                    f"{at}.identifier[{n}]",
                    "An identifier needs both a system and a value.",
                )
            )
        elif len(system) > 200 or len(number) > 100:
            problems.append(
                Problem(
                    f"{at}.identifier[{n}]",
                    "An identifier's system is at most 200 characters and its value"
                    " at most 100.",
                )
            )
        elif (system, number) not in others:
            others.append((system, number))
    if problems:
        return problems
    allow_duplicate = any(
        isinstance(e, dict)
        and e.get("url") == CONFIRMED_NOT_DUPLICATE_URL
        and e.get("valueBoolean") is True
        for e in resource.get("extension") or []
    )
    return PatientIn(
        family[:100],
        given_names[0][:100],
        birth_date,
        sex,
        details,
        mrn=mrn,
        resource_id=_str(resource.get("id"))[:64],
        allow_duplicate=allow_duplicate,
        identifiers=tuple(others),
    )


def _subject(
    resource: Mapping[str, Any], at: str, element: str = "subject"
) -> str | list[Problem]:
    ref = resource.get(element)
    text = _str(ref.get("reference")) if isinstance(ref, dict) else ""
    if not text:
        return [Problem(f"{at}.{element}", "A reference to the Patient is required.")]
    return text


def parse_condition(
    resource: Mapping[str, Any], at: str
) -> ConditionIn | list[Problem]:
    subject = _subject(resource, at)
    problems = subject if isinstance(subject, list) else []
    code = resource.get("code") if isinstance(resource.get("code"), dict) else {}
    assert isinstance(code, dict)
    codings = [c for c in code.get("coding") or [] if isinstance(c, dict)]
    icd = [c for c in codings if c.get("system") == ICD10_CM]
    if not icd:
        problems.append(
            Problem(f"{at}.code", f"An ICD-10-CM coding ({ICD10_CM}) is required.")
        )
    elif not _ICD10.match(_str(icd[0].get("code"))):
        problems.append(Problem(f"{at}.code", "Not an ICD-10-CM code (e.g. F33.2)."))
    if problems:
        return problems
    assert isinstance(subject, str)
    value = _str(icd[0].get("code"))
    description = _str(icd[0].get("display")) or _str(code.get("text")) or value
    return ConditionIn(subject, value, description[:200])


def _concept_text(concept: Any) -> str:
    """What a CodeableConcept names: its text, else a coding's display, else a code."""
    if not isinstance(concept, dict):
        return ""
    codings = [c for c in concept.get("coding") or [] if isinstance(c, dict)]
    return (
        _str(concept.get("text"))
        or next((_str(c.get("display")) for c in codings if _str(c.get("display"))), "")
        or next((_str(c.get("code")) for c in codings if _str(c.get("code"))), "")
    )


def _status_code(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and _str(coding.get("code")):
            return _str(coding.get("code"))
    return ""


def parse_allergy(
    resource: Mapping[str, Any], at: str
) -> AllergyIn | Skipped | list[Problem]:
    """An AllergyIntolerance into the chart's allergy list (substance, reaction,
    severity). A resolved, inactive, refuted or mistaken one is not a current allergy."""
    clinical = _status_code(resource.get("clinicalStatus"))
    verification = _status_code(resource.get("verificationStatus"))
    if clinical in ("inactive", "resolved"):
        return Skipped(f"The allergy is {clinical}; the chart lists current ones.")
    if verification in ("refuted", "entered-in-error"):
        return Skipped(f"The allergy is {verification}.")
    subject = _subject(resource, at, "patient")
    problems = subject if isinstance(subject, list) else []
    substance = _concept_text(resource.get("code"))
    if not substance:
        problems.append(Problem(f"{at}.code", "The substance (code) is required."))
    reactions = [r for r in resource.get("reaction") or [] if isinstance(r, dict)]
    manifestations = [
        _concept_text(m)
        for r in reactions
        for m in r.get("manifestation") or []
        if _concept_text(m)
    ]
    severities = [_str(r.get("severity")) for r in reactions if r.get("severity")]
    if problems:
        return problems
    assert isinstance(subject, str)
    severity = max(
        (s for s in severities if s in _ALLERGY_SEVERITIES),
        key=_ALLERGY_SEVERITIES.index,
        default="unknown",
    )
    return AllergyIn(
        subject, substance[:200], ", ".join(manifestations)[:200], severity
    )


def parse_medication(
    resource: Mapping[str, Any], at: str
) -> MedicationIn | Skipped | list[Problem]:
    """A MedicationStatement or MedicationRequest into the chart's current medication
    list (name and dose as the patient takes it). One the patient no longer takes
    (stopped, completed, cancelled, entered in error) is skipped."""
    kind = _str(resource.get("resourceType"))
    status = _str(resource.get("status"))
    if status not in _CURRENT_MEDICATION[kind]:
        return Skipped(
            f"A {kind} with status {status[:30] or '(none)'} is not a current medication."
        )
    subject = _subject(resource, at)
    problems = subject if isinstance(subject, list) else []
    name = _concept_text(resource.get("medicationCodeableConcept"))
    if not name:
        problems.append(
            Problem(
                f"{at}.medicationCodeableConcept",
                "The medication as a CodeableConcept (text or RxNorm coding) is required;"
                " medicationReference is not read.",
            )
        )
    element = "dosage" if kind == "MedicationStatement" else "dosageInstruction"
    dosages = [d for d in resource.get(element) or [] if isinstance(d, dict)]
    dose = "; ".join(_str(d.get("text")) for d in dosages if _str(d.get("text")))
    if problems:
        return problems
    assert isinstance(subject, str)
    return MedicationIn(subject, name[:200], dose[:100])


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _vital_value(
    code: str, quantity: Any, where: str, problems: list[Problem]
) -> VitalValue | None:
    name, unit, largest = _KEPT_OBSERVATIONS[code]
    if not isinstance(quantity, dict):
        problems.append(Problem(where, f"{name} needs a valueQuantity."))
        return None
    value = _decimal(quantity.get("value"))
    given_unit = _str(quantity.get("code")) or _str(quantity.get("unit"))
    if value is None:
        problems.append(Problem(f"{where}.value", f"{name} needs a number."))
        return None
    if given_unit != unit:
        problems.append(
            Problem(
                f"{where}.code",
                f"{name} is taken in UCUM {unit!r}, not {given_unit[:20]!r}.",
            )
        )
        return None
    if not Decimal(0) <= value <= largest or (
        code in SURVEY_TOTALS and value != value.to_integral_value()
    ):
        problems.append(
            Problem(f"{where}.value", f"{name} {value} {unit} is not possible.")
        )
        return None
    return VitalValue(code, name, value.quantize(Decimal("0.001")), unit)


def _loinc_codes(concept: Any) -> list[str]:
    if not isinstance(concept, dict):
        return []
    return [
        _str(c.get("code"))
        for c in concept.get("coding") or []
        if isinstance(c, dict) and c.get("system") == LOINC
    ]


def parse_observation(
    resource: Mapping[str, Any], at: str
) -> ObservationIn | Skipped | list[Problem]:
    """A vital-sign Observation (blood pressure, heart rate, SpO2, respiratory rate,
    EtCO2, weight, height, temperature; LOINC codes and UCUM units of the FHIR
    vital-signs profiles) or an outside questionnaire total (PHQ-9, PHQ-2, GAD-7,
    AUDIT-C, DAST-10 by their LOINC total codes, in `{score}`). Any other
    Observation (laboratory results, smoking status) is skipped."""
    codes = _loinc_codes(resource.get("code"))
    kept = [
        c for c in codes if c in _KEPT_OBSERVATIONS or c == BLOOD_PRESSURE_PANEL.code
    ]
    if not kept:
        shown = codes[0] if codes else _concept_text(resource.get("code"))
        return Skipped(
            f"Observation {shown[:40]!r} is not a vital sign or questionnaire total"
            " we keep."
        )
    status = _str(resource.get("status"))
    if status not in _OBSERVATION_STATUSES_KEPT:
        return Skipped(f"An Observation with status {status[:30]!r} is not kept.")
    subject = _subject(resource, at)
    problems = subject if isinstance(subject, list) else []
    effective = None
    try:
        effective = datetime.fromisoformat(
            _str(resource.get("effectiveDateTime")).replace("Z", "+00:00")
        )
        if effective.tzinfo is None:
            raise ValueError
    except ValueError:
        problems.append(
            Problem(
                f"{at}.effectiveDateTime",
                "When it was taken (a date and time with a time zone) is required.",
            )
        )
    values: list[VitalValue] = []
    if kept[0] == BLOOD_PRESSURE_PANEL.code:
        components = [c for c in resource.get("component") or [] if isinstance(c, dict)]
        for code in (SYSTOLIC_BP.code, DIASTOLIC_BP.code):
            found = [
                (n, c)
                for n, c in enumerate(components)
                if code in _loinc_codes(c.get("code"))
            ]
            if not found:
                problems.append(
                    Problem(
                        f"{at}.component",
                        f"A blood pressure needs its {VITAL_SIGNS[code][0].lower()}"
                        f" component (LOINC {code}).",
                    )
                )
                continue
            n, component = found[0]
            value = _vital_value(
                code,
                component.get("valueQuantity"),
                f"{at}.component[{n}].valueQuantity",
                problems,
            )
            if value is not None:
                values.append(value)
    else:
        value = _vital_value(
            kept[0], resource.get("valueQuantity"), f"{at}.valueQuantity", problems
        )
        if value is not None:
            values.append(value)
    if problems:
        return problems
    assert isinstance(subject, str)
    assert effective is not None
    return ObservationIn(subject, tuple(values), effective)


def instrument_for(canonical: str) -> Instrument | None:
    url, _, version = canonical.partition("|")
    for code, instrument in INSTRUMENTS.items():
        if url == questionnaire_url(code) and version in ("", instrument.version):
            return instrument
    return None


def _flat_items(items: Any) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for item in items or []:
        if isinstance(item, dict):
            found.append(item)
            found.extend(_flat_items(item.get("item")))
    return found


def response_answers(
    resource: Mapping[str, Any], instrument: Instrument, at: str
) -> dict[str, int] | list[Problem]:
    """Answer codings back to the instrument's option values, by linkId."""
    by_link: dict[str, Item] = {item.link_id: item for item in instrument.items}
    answers: dict[str, int] = {}
    problems: list[Problem] = []
    for n, item in enumerate(_flat_items(resource.get("item"))):
        link_id = _str(item.get("linkId"))
        where = f"{at}.item[{n}]"
        if link_id not in by_link:
            if item.get("answer"):
                problems.append(
                    Problem(
                        where, f"{link_id[:40]!r} is not an item of {instrument.code}."
                    )
                )
            continue
        given = item.get("answer") or []
        if not given:
            continue
        if len(given) > 1:
            problems.append(Problem(where, "One answer per item."))
            continue
        coding = given[0].get("valueCoding") if isinstance(given[0], dict) else None
        if not isinstance(coding, dict):
            problems.append(Problem(where, "Answers are codings (valueCoding)."))
            continue
        options = {
            (c.system, c.code): o.value
            for o in by_link[link_id].options
            for c in (answer_coding(instrument, o),)
        }
        key = (_str(coding.get("system")), _str(coding.get("code")))
        if key not in options:
            problems.append(
                Problem(where, f"Not an answer of {link_id}: {key[0]}|{key[1]}"[:200])
            )
            continue
        answers[link_id] = options[key]
    return problems or answers


def parse_response(resource: Mapping[str, Any], at: str) -> ResponseIn | list[Problem]:
    problems: list[Problem] = []
    subject = _subject(resource, at)
    if isinstance(subject, list):
        problems.extend(subject)
    instrument = instrument_for(_str(resource.get("questionnaire")))
    if instrument is None:
        problems.append(
            Problem(
                f"{at}.questionnaire",
                "Not one of this server's Questionnaires (GET /fhir/Questionnaire).",
            )
        )
    if resource.get("status") not in ("completed", "amended"):
        problems.append(Problem(f"{at}.status", "Only completed responses are taken."))
    authored = None
    try:
        authored = datetime.fromisoformat(
            _str(resource.get("authored")).replace("Z", "+00:00")
        )
        if authored.tzinfo is None:
            raise ValueError
    except ValueError:
        problems.append(
            Problem(f"{at}.authored", "A date and time with a time zone is required.")
        )
    if instrument is None:
        return problems
    answers = response_answers(resource, instrument, at)
    if isinstance(answers, list):
        return problems + answers
    try:
        score(instrument, answers)
    except InvalidResponse as exc:
        problems.extend(Problem(f"{at}.item", e.message) for e in exc.errors)
    if problems:
        return problems
    assert isinstance(subject, str)
    assert authored is not None
    return ResponseIn(subject, instrument.code, answers, authored)


_PARSERS: Final = {
    "Patient": parse_patient,
    "Condition": parse_condition,
    "AllergyIntolerance": parse_allergy,
    "MedicationStatement": parse_medication,
    "MedicationRequest": parse_medication,
    "Observation": parse_observation,
    "QuestionnaireResponse": parse_response,
}
BUNDLE_TYPES: Final = ("transaction", "batch", "collection")


def _fhirpath(at: str, loc: tuple[Any, ...]) -> str:
    path = at
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def structure_problems(resource: Mapping[str, Any], at: str) -> list[Problem]:
    """What the FHIR R4B structure definitions refuse (fhir.resources): unknown
    elements, wrong datatypes and cardinality, dates that do not exist."""
    try:
        get_fhir_model_class(str(resource["resourceType"])).model_validate(
            dict(resource)
        )
    except ValidationError as exc:
        return [
            Problem(_fhirpath(at, tuple(e["loc"])), str(e["msg"])[:200])
            for e in exc.errors()[:20]
        ]
    return []


def parse_entry(n: int, entry: Any) -> Entry:
    at = f"Bundle.entry[{n}]"
    resource = entry.get("resource") if isinstance(entry, dict) else None
    full_url = _str(entry.get("fullUrl")) if isinstance(entry, dict) else ""
    if not isinstance(resource, dict):
        return Entry(
            n, full_url, "", None, [Problem(at, "An entry without a resource.")]
        )
    resource_type = _str(resource.get("resourceType"))
    parser = _PARSERS.get(resource_type)
    if parser is None:
        return Entry(
            n,
            full_url,
            resource_type,
            Skipped(
                f"{resource_type[:40] or 'This resource'} is not kept"
                f" (only {', '.join(IMPORTED_TYPES)})."
            ),
        )
    request = entry.get("request")
    if isinstance(request, dict) and request.get("method") not in ("POST", None):
        return Entry(
            n,
            full_url,
            resource_type,
            None,
            [Problem(f"{at}.request.method", "Only POST (create) is supported.")],
        )
    problems = structure_problems(resource, f"{at}.resource")
    if problems:
        return Entry(n, full_url, resource_type, None, problems)
    value = parser(resource, f"{at}.resource")
    if isinstance(value, list):
        return Entry(n, full_url, resource_type, None, value)
    return Entry(n, full_url, resource_type, value)


def parse_bundle(bundle: Any) -> ParsedBundle:
    """Every entry of a transaction, batch or collection Bundle: its value, its
    problems (all of them) or why it is skipped."""
    parsed = ParsedBundle()
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        parsed.problems.append(Problem("Bundle", "A Bundle resource is expected."))
        return parsed
    if bundle.get("type") not in BUNDLE_TYPES:
        parsed.problems.append(
            Problem("Bundle.type", "A transaction or batch Bundle is expected.")
        )
        return parsed
    parsed.type = str(bundle["type"])
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        parsed.problems.append(Problem("Bundle.entry", "The Bundle has no entries."))
        return parsed
    seen_urls: set[str] = set()
    for n, raw in enumerate(entries):
        entry = parse_entry(n, raw)
        if entry.full_url and entry.full_url in seen_urls:
            entry.value = None
            entry.problems = [
                Problem(f"Bundle.entry[{n}].fullUrl", "The same fullUrl twice.")
            ]
        seen_urls.add(entry.full_url)
        parsed.entries.append(entry)
    return parsed


def answers_for_api(
    instrument: Instrument, resource: Mapping[str, Any]
) -> dict[str, int] | list[tuple[str, str]]:
    """A QuestionnaireResponse body at the measures API: answers, or (field, message)s."""
    read = response_answers(resource, instrument, "QuestionnaireResponse")
    if isinstance(read, list):
        return [(p.expression, p.message) for p in read]
    return read
