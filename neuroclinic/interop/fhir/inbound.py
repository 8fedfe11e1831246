"""Reading FHIR resources sent to us: a transaction Bundle of Patient, Condition and
QuestionnaireResponse, and a QuestionnaireResponse on its own (docs/fhir.md, "Import").

Each function returns plain values or a list of `Problem`s naming the element at
fault (a FHIRPath expression such as `Bundle.entry[2].resource.birthDate`); nothing
here touches the database. The import action resolves references and duplicates.

Pure module: standard library and the pure `neuroclinic.measures` package only.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from neuroclinic.interop.fhir.clinical import ICD10_CM
from neuroclinic.interop.fhir.codes import questionnaire_url
from neuroclinic.interop.fhir.questionnaires import answer_coding
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    Instrument,
    InvalidResponse,
    Item,
    score,
)

IMPORTED_TYPES = ("Patient", "Condition", "QuestionnaireResponse")
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


@dataclass(frozen=True)
class PatientIn:
    family_name: str
    given_name: str
    birth_date: date
    sex_at_birth: str
    details: dict[str, str]


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


@dataclass
class Entry:
    index: int
    full_url: str
    resource_type: str
    value: PatientIn | ConditionIn | ResponseIn


@dataclass
class ParsedBundle:
    entries: list[Entry] = field(default_factory=list)
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
    return PatientIn(family[:100], given_names[0][:100], birth_date, sex, details)


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


_PARSERS = {
    "Patient": parse_patient,
    "Condition": parse_condition,
    "QuestionnaireResponse": parse_response,
}


def parse_bundle(bundle: Any) -> ParsedBundle:
    """A transaction Bundle's entries, or the problems with them (every one of them)."""
    parsed = ParsedBundle()
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        parsed.problems.append(Problem("Bundle", "A Bundle resource is expected."))
        return parsed
    if bundle.get("type") not in ("transaction", "batch", "collection"):
        parsed.problems.append(
            Problem("Bundle.type", "A transaction Bundle is expected.")
        )
        return parsed
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        parsed.problems.append(Problem("Bundle.entry", "The Bundle has no entries."))
        return parsed
    seen_urls: set[str] = set()
    for n, entry in enumerate(entries):
        at = f"Bundle.entry[{n}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            parsed.problems.append(Problem(at, "An entry without a resource."))
            continue
        resource_type = _str(resource.get("resourceType"))
        parser = _PARSERS.get(resource_type)
        if parser is None:
            parsed.problems.append(
                Problem(
                    f"{at}.resource",
                    f"{resource_type[:40] or 'This resource'} is not imported"
                    f" (only {', '.join(IMPORTED_TYPES)}).",
                )
            )
            continue
        request = entry.get("request")
        if isinstance(request, dict) and request.get("method") not in ("POST", None):
            parsed.problems.append(
                Problem(f"{at}.request.method", "Only POST (create) is supported.")
            )
            continue
        full_url = _str(entry.get("fullUrl"))
        if full_url and full_url in seen_urls:
            parsed.problems.append(Problem(f"{at}.fullUrl", "The same fullUrl twice."))
            continue
        seen_urls.add(full_url)
        value = parser(resource, f"{at}.resource")
        if isinstance(value, list):
            parsed.problems.extend(value)
        else:
            parsed.entries.append(Entry(n, full_url, resource_type, value))
    return parsed


def answers_for_api(
    instrument: Instrument, resource: Mapping[str, Any]
) -> dict[str, int] | list[tuple[str, str]]:
    """A QuestionnaireResponse body at the measures API: answers, or (field, message)s."""
    read = response_answers(resource, instrument, "QuestionnaireResponse")
    if isinstance(read, list):
        return [(p.expression, p.message) for p in read]
    return read
