"""FHIR R4 Questionnaire, QuestionnaireResponse and score Observation for the instruments.

Standards: FHIR R4 4.0.1 Questionnaire, QuestionnaireResponse
and Observation; the shapes follow the US Core QuestionnaireResponse and Observation
Screening Assessment profiles and the SDC PHQ-9 example, but do not claim them
(no `meta.profile`): profile validation is not done yet (docs/fhir.md).
Codes: LOINC via the instrument definitions (`Instrument.loinc_*`,
`Item.loinc`, `Option.loinc_answer`) and `codes.py`.

Mapping decisions (docs/fhir.md has the full table):
- Questionnaire id is `<instrument code>-<definition version>` and its canonical
  url is `codes.questionnaire_url(code)`; a response points at `url|version`, so a
  stored response keeps the definition it was answered under.
- Every answer is a `valueCoding`: the LOINC answer code where the option has one,
  otherwise code `str(option value)` in the instrument's local answers CodeSystem.
  Yes/no items stay `choice` (not `boolean`) so they keep their LOINC answer codes
  and DAST-10 item 3 can carry its reversed weight.
- An option's `ordinalValue` is what the answer adds to the total (`Item.points`),
  given only on items that count toward the total; a plain sum of the ordinal
  values of a response is then the published total for every summed instrument.
  QIDS-SR16 (whose total is a sum of domain maxima) carries none, so a scorer that
  sums ordinal values finds nothing to sum rather than a wrong total.
- The instrument's preamble becomes a leading `display` item.

Pure module: standard library and the pure `neuroclinic.measures` package only.
"""

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from uuid import UUID

from neuroclinic.interop.fhir.codes import (
    CAPTURE_CHANNELS,
    CSSRS_TRIAGE,
    INSTRUMENT_SCORES,
    LOINC,
    NEGATIVE,
    ORDINAL_VALUE_URL,
    POSITIVE,
    SCORE,
    SEVERITY_BANDS,
    SURVEY,
    UCUM,
    Coding,
    local_answers_system,
    loinc,
    questionnaire_url,
)
from neuroclinic.interop.fhir.references import reference
from neuroclinic.measures.instruments import (
    Instrument,
    InstrumentCode,
    Item,
    Option,
    Rater,
    Score,
    ScoreFlag,
    Severity,
    Triage,
)

Resource = dict[str, Any]


class CaptureChannel(StrEnum):
    """How a response reached the clinic: the `source` argument.

    The same values as the measures app's QuestionnaireResponse.Source choices.
    """

    STAFF = "staff"  # entered by staff: a clinician rating, or a paper form typed in
    PORTAL = "portal"
    KIOSK = "kiosk"
    SELF_CHECK = "self_check"  # the public self-check, before an account exists
    API = "api"


# Channels where the patient typed the answers in themselves.
PATIENT_ENTERED = frozenset(
    {CaptureChannel.PORTAL, CaptureChannel.KIOSK, CaptureChannel.SELF_CHECK}
)
_CHANNELS = frozenset(CaptureChannel)


# The flag that is the instrument's screening result; its absence is a negative screen.
SCREEN_RESULT_FLAGS: Mapping[str, ScoreFlag] = MappingProxyType(
    {
        InstrumentCode.PHQ2: ScoreFlag.PHQ2_POSITIVE,
        InstrumentCode.GAD2: ScoreFlag.GAD2_POSITIVE,
        InstrumentCode.PCL5: ScoreFlag.PCL5_PROVISIONAL_PTSD,
        InstrumentCode.MDQ: ScoreFlag.MDQ_POSITIVE,
        InstrumentCode.AUDIT_C: ScoreFlag.AUDIT_C_POSITIVE,
    }
)

TRIAGE_LABELS: Mapping[Triage, str] = MappingProxyType(
    {
        Triage.NONE: "No risk identified",
        Triage.LOW: "Low risk",
        Triage.MODERATE: "Moderate risk",
        Triage.HIGH: "High risk",
    }
)

# PCL-5 clusters by DSM-5 criterion: B 1-5, C 6-7, D 8-14, E 15-20 (Source: M11).
_SUBSCALE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "cluster_b": "cluster B (intrusion)",
        "cluster_c": "cluster C (avoidance)",
        "cluster_d": "cluster D (negative alterations in cognition and mood)",
        "cluster_e": "cluster E (alterations in arousal and reactivity)",
    }
)

_NOT_REDISTRIBUTABLE_NOTE = (
    " Item text here is a short label naming what each item asks, not the published"
    " wording; the clinic loads its licensed wording."
)


# Shared helpers -------------------------------------------------------------------


def questionnaire_id(instrument: Instrument) -> str:
    return f"{instrument.code}-{instrument.version}"


def questionnaire_canonical(instrument: Instrument) -> str:
    """`url|version`, as a QuestionnaireResponse cites the form it answers."""
    return f"{questionnaire_url(instrument.code)}|{instrument.version}"


def short_name(instrument: Instrument) -> str:
    """The abbreviation in the instrument's name: "PHQ-9", "C-SSRS Screener"."""
    match = re.search(r"\(([^()]+)\)\s*$", instrument.name)
    return match.group(1) if match else instrument.code.upper()


def answer_coding(instrument: Instrument, option: Option) -> Coding:
    if option.loinc_answer is not None:
        return Coding(LOINC, option.loinc_answer, option.label)
    return Coding(
        local_answers_system(instrument.code), str(option.value), option.label
    )


def severity_label(severity: Severity) -> str:
    return severity.value.replace("_", " ").capitalize()


def _fhir_datetime(moment: datetime, *, name: str) -> str:
    # A FHIR dateTime with a time must carry a time zone offset. The local offset
    # is kept (it says what the clock read at the clinic); UTC is written "Z".
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    text = moment.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def _computable_name(code: str) -> str:
    # que-0: name matches [A-Z]([A-Za-z0-9_]){0,254}.
    name = re.sub(r"[^A-Za-z0-9]+", "_", code).strip("_").upper()
    return name if name[:1].isalpha() else f"Q_{name}"


# Questionnaire ----------------------------------------------------------------------


# Instruments whose total is not the sum of their items' points: their options
# carry no ordinalValue, so no scorer summing ordinal values (the common SDC way)
# can compute a total; the total is the score Observation's.
NOT_SUMMED_BY_ITEM: frozenset[str] = frozenset({InstrumentCode.QIDS_SR16})


def _answer_option(instrument: Instrument, item: Item, option: Option) -> Resource:
    answer_option: Resource = {}
    if item.in_total and instrument.code not in NOT_SUMMED_BY_ITEM:
        answer_option["extension"] = [
            {"url": ORDINAL_VALUE_URL, "valueDecimal": item.points(option.value)}
        ]
    answer_option["valueCoding"] = answer_coding(instrument, option).as_dict()
    return answer_option


def _question(instrument: Instrument, item: Item) -> Resource:
    question: Resource = {"linkId": item.link_id}
    if item.loinc is not None:
        question["code"] = [loinc(item.loinc).as_dict()]
    question["text"] = item.text
    question["type"] = "choice"
    if item.enable_when is not None:
        controller = instrument.item(item.enable_when.link_id)
        asked_if = next(
            option
            for option in controller.options
            if option.value == item.enable_when.answer
        )
        question["enableWhen"] = [
            {
                "question": controller.link_id,
                "operator": "=",
                "answerCoding": answer_coding(instrument, asked_if).as_dict(),
            }
        ]
    question["required"] = item.required
    question["answerOption"] = [
        _answer_option(instrument, item, option) for option in item.options
    ]
    return question


def questionnaire_resource(instrument: Instrument) -> Resource:
    description = f"{instrument.source} Recall period: {instrument.recall_period}."
    if instrument.rater is Rater.CLINICIAN:
        description += " Rated by a clinician."
    copyright_text = instrument.licence
    if not instrument.wording_redistributable:
        copyright_text += _NOT_REDISTRIBUTABLE_NOTE

    resource: Resource = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument),
        "url": questionnaire_url(instrument.code),
        "version": instrument.version,
        "name": _computable_name(instrument.code),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "description": description,
        "copyright": copyright_text,
    }
    if instrument.loinc_panel is not None:
        resource["code"] = [loinc(instrument.loinc_panel).as_dict()]
    items: list[Resource] = []
    if instrument.preamble:
        items.append(
            {
                "linkId": f"{instrument.code}-preamble",
                "text": instrument.preamble,
                "type": "display",
            }
        )
    items.extend(_question(instrument, item) for item in instrument.items)
    resource["item"] = items
    return resource


# QuestionnaireResponse --------------------------------------------------------------


def _answered_option(item: Item, value: object) -> Option:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"{item.link_id}: the answer must be an int option value, not {value!r}"
        )
    for option in item.options:
        if option.value == value:
            return option
    raise ValueError(f"{item.link_id}: {value} is not an option")


# (instrument code, version) -> link id -> option value -> the answered item, built
# once: a bulk export renders millions of responses from a dozen instruments. The
# items' inner dicts are shared between resources and never changed.
_ANSWERED_ITEMS: dict[tuple[str, str], dict[str, dict[int, Resource]]] = {}


def _answered_items(instrument: Instrument) -> dict[str, dict[int, Resource]]:
    key = (instrument.code, instrument.version)
    found = _ANSWERED_ITEMS.get(key)
    if found is None:
        found = {
            item.link_id: {
                option.value: {
                    "linkId": item.link_id,
                    "text": item.text,
                    "answer": [
                        {"valueCoding": answer_coding(instrument, option).as_dict()}
                    ],
                }
                for option in item.options
            }
            for item in instrument.items
        }
        _ANSWERED_ITEMS[key] = found
    return found


def questionnaire_response_resource(
    *,
    response_id: UUID,
    patient_id: UUID,
    instrument: Instrument,
    answers: Mapping[str, int | None],
    authored: datetime,
    author_id: UUID | None,
    source: str,
) -> Resource:
    """A completed response; unanswered items (None or absent) are left out.

    `answers` should be a response `score()` accepted: this checks only that each
    answer is an option of a known item, not completeness or branching.
    `source` is a `CaptureChannel` value, kept as a `meta.tag`. `author_id` is the
    staff user who entered the answers, exported as a Practitioner.

    `author` (who recorded the answers) is that Practitioner, else the patient on a
    patient-entered channel. `source` (who gave the answers) is the patient for a
    self-report instrument, and the entering clinician for a clinician-rated one.
    Either is left out when it is not known.
    """
    if source not in _CHANNELS:
        raise ValueError(
            f"source must be one of {', '.join(CaptureChannel)}, not {source!r}"
        )
    known = _answered_items(instrument)
    unknown = sorted(str(link_id) for link_id in answers if link_id not in known)
    if unknown:
        raise ValueError(f"not items of {instrument.code}: {', '.join(unknown)}")

    patient = reference("Patient", patient_id)
    staff = reference("Practitioner", author_id) if author_id is not None else None
    author = staff or (patient if source in PATIENT_ENTERED else None)
    answered_by = patient if instrument.rater is Rater.PATIENT else staff

    answered = _answered_items(instrument)
    items: list[Resource] = []
    for item in instrument.items:
        value = answers.get(item.link_id)
        if value is None:
            continue
        # An int that is one of the item's options; anything else is refused.
        found = answered[item.link_id].get(value) if type(value) is int else None
        if found is None:
            _answered_option(item, value)  # raises, naming the item and the value
            raise AssertionError  # pragma: no cover - _answered_option raised
        items.append(dict(found))

    resource: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(response_id),
        "meta": {"tag": [Coding(CAPTURE_CHANNELS, str(source)).as_dict()]},
        "questionnaire": questionnaire_canonical(instrument),
        "status": "completed",
        "subject": patient,
        "authored": _fhir_datetime(authored, name="authored"),
    }
    if author is not None:
        resource["author"] = author
    if answered_by is not None:
        resource["source"] = answered_by
    if items:
        resource["item"] = items
    return resource


# Score Observation ------------------------------------------------------------------


def score_code(instrument: Instrument) -> Coding:
    """The LOINC total-score code, or a local code where LOINC has none we could verify."""
    name = short_name(instrument)
    if instrument.loinc_total is not None:
        return loinc(instrument.loinc_total)
    # Local code: no verified LOINC total for QIDS-SR16, MADRS, PCL-5, MDQ, CADSS-6
    # or the C-SSRS screener (Source: M7, M8, M10, M11, M12, M15). Replace it when one is verified.
    if instrument.total_range is None:
        return Coding(INSTRUMENT_SCORES, f"{instrument.code}-triage", f"{name} triage")
    return Coding(INSTRUMENT_SCORES, f"{instrument.code}-total", f"{name} total score")


def _score_text(instrument: Instrument) -> str:
    kind = "triage" if instrument.total_range is None else "total score"
    return f"{short_name(instrument)} {kind}"


def _interpretations(instrument: Instrument, score: Score) -> list[Resource]:
    interpretations: list[Resource] = []
    if score.severity is not None:
        label = severity_label(score.severity)
        coding = Coding(SEVERITY_BANDS, score.severity.value, label)
        interpretations.append({"coding": [coding.as_dict()], "text": label})
    screen_flag = SCREEN_RESULT_FLAGS.get(instrument.code)
    if screen_flag is not None:
        if screen_flag in score.flags:
            interpretations.append(
                {"coding": [POSITIVE.as_dict()], "text": "Positive screen"}
            )
        else:
            interpretations.append(
                {"coding": [NEGATIVE.as_dict()], "text": "Negative screen"}
            )
    return interpretations


def score_quantity(value: int) -> Resource:
    """A score as US Core and LOINC survey examples carry it: a Quantity in UCUM {score}."""
    return {"value": value, "unit": "{score}", "system": UCUM, "code": SCORE}


def _component(instrument: Instrument, key: str, value: int) -> Resource:
    name = _SUBSCALE_NAMES.get(key, f"{key.replace('_', ' ')} domain")
    coding = Coding(
        INSTRUMENT_SCORES,
        f"{instrument.code}-{key.replace('_', '-')}",
        f"{short_name(instrument)} {name} score",
    )
    return {
        "code": {"coding": [coding.as_dict()]},
        "valueQuantity": score_quantity(value),
    }


# (instrument code, version) -> the score Observation's category and code, built
# once (shared between resources, never changed).
_SCORE_HEADINGS: dict[tuple[str, str], tuple[list[Resource], Resource]] = {}


def _score_heading(instrument: Instrument) -> tuple[list[Resource], Resource]:
    key = (instrument.code, instrument.version)
    found = _SCORE_HEADINGS.get(key)
    if found is None:
        found = (
            [{"coding": [SURVEY.as_dict()]}],
            {
                "coding": [score_code(instrument).as_dict()],
                "text": _score_text(instrument),
            },
        )
        _SCORE_HEADINGS[key] = found
    return found


def score_observation_resource(
    *,
    observation_id: UUID,
    patient_id: UUID,
    response_id: UUID,
    instrument: Instrument,
    score: Score,
    effective: datetime,
) -> Resource:
    """The scored result: total (or C-SSRS triage), band, screen result and subscales."""
    if (score.instrument_code, score.instrument_version) != (
        instrument.code,
        instrument.version,
    ):
        raise ValueError(
            f"score is for {score.instrument_code} {score.instrument_version},"
            f" not {instrument.code} {instrument.version}"
        )
    category, code = _score_heading(instrument)
    resource: Resource = {
        "resourceType": "Observation",
        "id": str(observation_id),
        "status": "final",
        "category": category,
        "code": code,
        "subject": reference("Patient", patient_id),
        "effectiveDateTime": _fhir_datetime(effective, name="effective"),
    }
    if score.total is not None:
        resource["valueQuantity"] = score_quantity(score.total)
    elif score.triage is not None:
        label = TRIAGE_LABELS[score.triage]
        triage = Coding(CSSRS_TRIAGE, score.triage.value, label)
        resource["valueCodeableConcept"] = {
            "coding": [triage.as_dict()],
            "text": label,
        }
    else:
        raise ValueError(f"{instrument.code}: the score has neither total nor triage")

    interpretations = _interpretations(instrument, score)
    if interpretations:
        resource["interpretation"] = interpretations
    resource["derivedFrom"] = [reference("QuestionnaireResponse", response_id)]
    if score.subscales:
        resource["component"] = [
            _component(instrument, key, value) for key, value in score.subscales.items()
        ]
    return resource
