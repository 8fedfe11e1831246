"""FHIR Questionnaire, QuestionnaireResponse and score Observation for every instrument.

Validated with the R4B models of fhir.resources (structure, cardinality, datatypes,
choice types). Those models do not check required bindings (a `status` of "bogus"
passes) or invariants, so the checks below that matter to us are written out here.
PHQ-9 is also compared with golden JSON files; to rewrite them after an intended
change, run this module with NEUROCLINIC_WRITE_GOLDEN=1, review the diff, and rerun.

Pure tests: no Django, no database.
"""

import ast
import json
import os
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroclinic.interop.fhir import codes
from neuroclinic.interop.fhir.questionnaires import (
    CaptureChannel,
    questionnaire_resource,
    questionnaire_response_resource,
    score_observation_resource,
)
from neuroclinic.interop.fhir.references import reference
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    Instrument,
    InstrumentCode,
    Rater,
    Score,
    Triage,
    get_instrument,
    score,
)

GOLDEN = Path(__file__).parent / "golden"
WRITE_GOLDEN = os.environ.get("NEUROCLINIC_WRITE_GOLDEN") == "1"

PATIENT = UUID("7d3f0c2e-5b1a-4c8e-9f6d-2a4b6c8e0f11")
RESPONSE = UUID("1c9e4a7b-3d2f-4e6a-8b5c-0d1e2f3a4b51")
OBSERVATION = UUID("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c61")
STAFF = UUID("4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a781")
AUTHORED = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)

# PHQ-9 golden response: total 15 (moderately severe), item 9 "Not at all".
PHQ9_ANSWERS: dict[str, int | None] = {
    **{f"phq9-{n}": v for n, v in enumerate([3, 2, 2, 3, 1, 2, 1, 1, 0], start=1)},
    "phq9-10": 1,
}

ALL = sorted(INSTRUMENTS)
QUESTION_TYPES = {"choice", "display"}
# FHIR R4 status value sets (required bindings the models do not check).
PUBLICATION_STATUS = {"draft", "active", "retired", "unknown"}
RESPONSE_STATUS = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
OBSERVATION_STATUS = {
    *("registered", "preliminary", "final", "amended", "corrected"),
    *("cancelled", "entered-in-error", "unknown"),
}
# que-0 (computable name) and the FHIR id pattern.
NAME_PATTERN = re.compile(r"[A-Z]([A-Za-z0-9_]){0,254}")
ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")

Resource = dict[str, Any]


# Helpers -------------------------------------------------------------------------


def as_json(resource: object) -> Any:
    """The resource as a JSON reader sees it (and fails on anything not JSON-serialisable)."""
    return json.loads(json.dumps(resource))


def round_trip(model: Any, resource: Resource) -> Any:
    return json.loads(model.model_validate(resource).model_dump_json())


def options_by_link_id(questionnaire: Resource) -> dict[str, list[Resource]]:
    return {
        item["linkId"]: [option["valueCoding"] for option in item["answerOption"]]
        for item in questionnaire["item"]
        if item["type"] == "choice"
    }


@st.composite
def valid_answers(draw: st.DrawFn, instrument: Instrument) -> dict[str, int | None]:
    """Any response `score()` accepts: asked items only, required ones answered."""
    answers: dict[str, int | None] = {}
    for item in instrument.items:
        condition = item.enable_when
        if condition is not None and answers.get(condition.link_id) != condition.answer:
            continue
        values = sorted(item.option_values)
        if item.required:
            answers[item.link_id] = draw(st.sampled_from(values))
        else:
            answers[item.link_id] = draw(st.none() | st.sampled_from(values))
    for group in instrument.required_one_of:
        if all(answers.get(link_id) is None for link_id in group):
            first = instrument.item(group[0])
            answers[first.link_id] = draw(st.sampled_from(sorted(first.option_values)))
    return answers


def lowest_answers(instrument: Instrument) -> dict[str, int | None]:
    """The lowest option for every asked required item, and one of each either/or group."""
    answers: dict[str, int | None] = {}
    for item in instrument.items:
        condition = item.enable_when
        if condition is not None and answers.get(condition.link_id) != condition.answer:
            continue
        if item.required or any(
            group[0] == item.link_id for group in instrument.required_one_of
        ):
            answers[item.link_id] = min(item.option_values)
    return answers


def build(
    instrument: Instrument, answers: Mapping[str, int | None], sex: str = "female"
) -> tuple[Resource, Resource, Score]:
    result = score(instrument, answers, sex=sex)
    response = questionnaire_response_resource(
        response_id=RESPONSE,
        patient_id=PATIENT,
        instrument=instrument,
        answers=answers,
        authored=AUTHORED,
        author_id=STAFF if instrument.rater is Rater.CLINICIAN else None,
        source="staff" if instrument.rater is Rater.CLINICIAN else "portal",
    )
    observation = score_observation_resource(
        observation_id=OBSERVATION,
        patient_id=PATIENT,
        response_id=RESPONSE,
        instrument=instrument,
        score=result,
        effective=AUTHORED,
    )
    return response, observation, result


def check_golden(name: str, resource: Resource) -> None:
    path = GOLDEN / name
    if WRITE_GOLDEN:
        path.write_text(json.dumps(resource, indent=2, ensure_ascii=False) + "\n")
        pytest.fail(
            f"wrote {path}; review it, then rerun without NEUROCLINIC_WRITE_GOLDEN"
        )
    assert as_json(resource) == json.loads(path.read_text())


# Questionnaire ---------------------------------------------------------------------


@pytest.mark.parametrize("code", ALL)
def test_questionnaire_validates_against_r4b_and_round_trips(code: str) -> None:
    resource = questionnaire_resource(get_instrument(code))

    assert round_trip(Questionnaire, resource) == as_json(resource)


@pytest.mark.parametrize("code", ALL)
def test_questionnaire_meets_the_r4_rules_the_models_do_not_check(code: str) -> None:
    instrument = get_instrument(code)
    resource = questionnaire_resource(instrument)
    items = resource["item"]
    link_ids = [item["linkId"] for item in items]

    assert resource["status"] in PUBLICATION_STATUS
    assert NAME_PATTERN.fullmatch(resource["name"])  # que-0
    assert ID_PATTERN.fullmatch(resource["id"])
    assert resource["url"] == codes.questionnaire_url(code)
    assert resource["version"] == instrument.version
    assert len(set(link_ids)) == len(link_ids)  # que-2
    assert [i for i in link_ids if not i.endswith("-preamble")] == [
        item.link_id for item in instrument.items
    ]
    for item in items:
        assert item["type"] in QUESTION_TYPES
        if item["type"] == "display":  # que-6, que-5
            assert "required" not in item
            assert "answerOption" not in item
        else:
            assert item["answerOption"]
        for condition in item.get("enableWhen", []):  # que-7
            assert condition["operator"] == "="
            asked_before = link_ids[: link_ids.index(item["linkId"])]
            assert condition["question"] in asked_before
            assert (
                condition["answerCoding"]
                in options_by_link_id(resource)[condition["question"]]
            )


@pytest.mark.parametrize("code", ALL)
def test_answer_codes_are_loinc_or_the_instrument_local_system_and_unambiguous(
    code: str,
) -> None:
    resource = questionnaire_resource(get_instrument(code))
    displays: dict[tuple[str, str], set[str]] = {}
    for options in options_by_link_id(resource).values():
        for coding in options:
            assert coding["system"] in {codes.LOINC, codes.local_answers_system(code)}
            displays.setdefault((coding["system"], coding["code"]), set()).add(
                coding["display"]
            )

    # One code means one answer within a system, or a local code would mislead.
    assert all(len(names) == 1 for names in displays.values()), displays


@pytest.mark.parametrize("code", ALL)
def test_ordinal_value_is_the_points_an_answer_adds(code: str) -> None:
    instrument = get_instrument(code)
    questions = {
        item["linkId"]: item
        for item in questionnaire_resource(instrument)["item"]
        if item["type"] == "choice"
    }
    for item in instrument.items:
        question_options = questions[item.link_id]["answerOption"]
        for option, answer_option in zip(item.options, question_options, strict=True):
            if item.in_total and code != InstrumentCode.QIDS_SR16:
                assert answer_option["extension"] == [
                    {
                        "url": codes.ORDINAL_VALUE_URL,
                        "valueDecimal": item.points(option.value),
                    }
                ]
            else:
                assert "extension" not in answer_option


def test_phq9_questionnaire_codes() -> None:
    resource = questionnaire_resource(get_instrument(InstrumentCode.PHQ9))
    item9 = next(item for item in resource["item"] if item["linkId"] == "phq9-9")

    assert resource["code"] == [{"system": codes.LOINC, "code": "44249-1"}]
    assert item9["code"] == [{"system": codes.LOINC, "code": "44260-8"}]
    assert [option["valueCoding"]["code"] for option in item9["answerOption"]] == [
        "LA6568-5",
        "LA6569-3",
        "LA6570-1",
        "LA6571-9",
    ]
    assert resource["item"][0] == {
        "linkId": "phq9-preamble",
        "text": "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
        "type": "display",
    }


def test_cssrs_branching_is_enable_when_on_a_yes() -> None:
    resource = questionnaire_resource(get_instrument(InstrumentCode.CSSRS_SCREENER))
    conditions = {
        item["linkId"]: item["enableWhen"]
        for item in resource["item"]
        if "enableWhen" in item
    }
    yes = {"system": codes.LOINC, "code": "LA33-6", "display": "Yes"}

    assert conditions == {
        "cssrs-screener-3": [
            {"question": "cssrs-screener-2", "operator": "=", "answerCoding": yes}
        ],
        "cssrs-screener-4": [
            {"question": "cssrs-screener-2", "operator": "=", "answerCoding": yes}
        ],
        "cssrs-screener-5": [
            {"question": "cssrs-screener-2", "operator": "=", "answerCoding": yes}
        ],
        "cssrs-screener-6a": [
            {"question": "cssrs-screener-6", "operator": "=", "answerCoding": yes}
        ],
    }


@pytest.mark.parametrize(
    ("code", "redistributable"),
    [(code, get_instrument(code).wording_redistributable) for code in ALL],
)
def test_copyright_carries_the_licence_and_says_when_text_is_a_label(
    code: str, redistributable: bool
) -> None:
    instrument = get_instrument(code)
    copyright_text = questionnaire_resource(instrument)["copyright"]

    assert copyright_text.startswith(instrument.licence)
    assert ("not the published wording" in copyright_text) is not redistributable


def test_clinician_rated_instrument_renders_and_says_so() -> None:
    resource = questionnaire_resource(get_instrument(InstrumentCode.MADRS))

    assert "Rated by a clinician." in resource["description"]
    assert "code" not in resource  # no verified LOINC panel
    assert len([item for item in resource["item"] if item["type"] == "choice"]) == 10


# QuestionnaireResponse and Observation over the whole registry ---------------------


@st.composite
def instrument_and_answers(
    draw: st.DrawFn,
) -> tuple[Instrument, dict[str, int | None], str]:
    instrument = INSTRUMENTS[draw(st.sampled_from(ALL))]
    return (
        instrument,
        draw(valid_answers(instrument)),
        draw(st.sampled_from(["male", "female"])),
    )


@settings(max_examples=150, deadline=None)
@given(instrument_and_answers())
def test_any_valid_response_exports_to_valid_fhir_whose_answers_are_answer_options(
    case: tuple[Instrument, dict[str, int | None], str],
) -> None:
    instrument, answers, sex = case
    questionnaire = questionnaire_resource(instrument)
    response, observation, result = build(instrument, answers, sex)

    assert round_trip(QuestionnaireResponse, response) == as_json(response)
    assert round_trip(Observation, observation) == as_json(observation)
    assert response["status"] in RESPONSE_STATUS
    assert observation["status"] in OBSERVATION_STATUS

    answered = [link_id for link_id, value in answers.items() if value is not None]
    options = options_by_link_id(questionnaire)
    assert [item["linkId"] for item in response.get("item", [])] == [
        item.link_id for item in instrument.items if item.link_id in answered
    ]
    for item in response.get("item", []):
        (answer,) = item["answer"]
        assert answer["valueCoding"] in options[item["linkId"]]
    assert (
        response["questionnaire"]
        == f"{questionnaire['url']}|{questionnaire['version']}"
    )
    assert observation["derivedFrom"] == [reference("QuestionnaireResponse", RESPONSE)]
    if result.total is not None:
        # US Core / LOINC convention: a score is a Quantity in UCUM {score}.
        assert observation["valueQuantity"] == {
            "value": result.total,
            "unit": "{score}",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        }
        assert "valueInteger" not in observation


@settings(max_examples=100, deadline=None)
@given(instrument_and_answers())
def test_ordinal_values_of_a_response_sum_to_the_total(
    case: tuple[Instrument, dict[str, int | None], str],
) -> None:
    instrument, answers, sex = case
    if instrument.total_range is None:
        return  # C-SSRS triages
    questionnaire = questionnaire_resource(instrument)
    ordinal = {
        (item["linkId"], option["valueCoding"]["code"]): option["extension"][0][
            "valueDecimal"
        ]
        for item in questionnaire["item"]
        if item["type"] == "choice"
        for option in item["answerOption"]
        if "extension" in option
    }
    response, _, result = build(instrument, answers, sex)

    total = sum(
        ordinal.get((item["linkId"], item["answer"][0]["valueCoding"]["code"]), 0)
        for item in response.get("item", [])
    )
    if instrument.code == InstrumentCode.QIDS_SR16:
        # A sum of domain maxima: no ordinal values, so a scorer that sums them
        # cannot produce a (wrong) total.
        assert ordinal == {}
    else:
        assert total == result.total


def test_a_summing_scorer_would_get_qids_wrong_without_the_guard() -> None:
    """Why QIDS-SR16 carries no ordinalValue: summing its items' points overcounts
    (items 1-4, 6-9 and 15-16 count only their highest answer)."""
    instrument = get_instrument(InstrumentCode.QIDS_SR16)
    # Items 6/7 and 8/9 are "answer one of": leave 7 and 9 out.
    answers = {
        item.link_id: 3
        for item in instrument.items
        if item.link_id not in ("qids-sr16-7", "qids-sr16-9")
    }
    result = score(instrument, answers)
    assert result.total == 27  # nine domains at 3
    assert sum(answers.values()) == 42  # what an ordinal sum would claim


# Observation details ---------------------------------------------------------------


@pytest.mark.parametrize("code", ALL)
def test_observation_code_is_the_loinc_total_or_a_local_code(code: str) -> None:
    instrument = get_instrument(code)
    _, observation, _ = build(instrument, lowest_answers(instrument))
    (coding,) = observation["code"]["coding"]

    assert observation["status"] == "final"
    assert observation["category"] == [{"coding": [codes.SURVEY.as_dict()]}]
    if instrument.loinc_total is not None:
        assert coding == codes.loinc(instrument.loinc_total).as_dict()
        assert "display" in coding
    else:
        assert coding["system"] == codes.INSTRUMENT_SCORES


@pytest.mark.parametrize(
    ("answers", "triage", "display"),
    [
        (
            {"cssrs-screener-1": 0, "cssrs-screener-2": 0, "cssrs-screener-6": 0},
            "none",
            "No risk identified",
        ),
        (
            {"cssrs-screener-1": 1, "cssrs-screener-2": 0, "cssrs-screener-6": 0},
            "low",
            "Low risk",
        ),
        (
            {
                "cssrs-screener-1": 1,
                "cssrs-screener-2": 1,
                "cssrs-screener-3": 1,
                "cssrs-screener-4": 0,
                "cssrs-screener-5": 1,
                "cssrs-screener-6": 0,
            },
            "high",
            "High risk",
        ),
    ],
)
def test_cssrs_observation_value_is_the_triage_level(
    answers: dict[str, int | None], triage: str, display: str
) -> None:
    response, observation, result = build(
        get_instrument(InstrumentCode.CSSRS_SCREENER), answers
    )

    assert result.triage == Triage(triage)
    assert "valueQuantity" not in observation
    assert observation["valueCodeableConcept"] == {
        "coding": [{"system": codes.CSSRS_TRIAGE, "code": triage, "display": display}],
        "text": display,
    }
    assert observation["code"]["coding"] == [
        {
            "system": codes.INSTRUMENT_SCORES,
            "code": "cssrs-screener-triage",
            "display": "C-SSRS Screener triage",
        }
    ]
    assert response["source"] == reference("Practitioner", STAFF)


def test_pcl5_observation_has_the_four_cluster_components() -> None:
    instrument = get_instrument(InstrumentCode.PCL5)
    answers: dict[str, int | None] = {f"pcl5-{n}": n % 5 for n in range(1, 21)}
    _, observation, result = build(instrument, answers)

    components = {
        component["code"]["coding"][0]["code"]: component["valueQuantity"]["value"]
        for component in observation["component"]
    }
    assert components == {
        "pcl5-cluster-b": 1 + 2 + 3 + 4 + 0,
        "pcl5-cluster-c": 1 + 2,
        "pcl5-cluster-d": 3 + 4 + 0 + 1 + 2 + 3 + 4,
        "pcl5-cluster-e": 0 + 1 + 2 + 3 + 4 + 0,
    }
    assert all(
        c["valueQuantity"]["code"] == "{score}" for c in observation["component"]
    )
    assert (
        sum(components.values())
        == observation["valueQuantity"]["value"]
        == result.total
    )
    assert observation["interpretation"] == [
        {"coding": [codes.POSITIVE.as_dict()], "text": "Positive screen"}
    ]


def test_screen_without_bands_reports_a_negative_screen() -> None:
    _, observation, _ = build(
        get_instrument(InstrumentCode.PHQ2), {"phq2-1": 1, "phq2-2": 1}
    )

    assert observation["valueQuantity"]["value"] == 2
    assert observation["interpretation"] == [
        {"coding": [codes.NEGATIVE.as_dict()], "text": "Negative screen"}
    ]


# PHQ-9 golden files ----------------------------------------------------------------


def test_phq9_questionnaire_matches_golden() -> None:
    check_golden(
        "phq9-questionnaire.json", questionnaire_resource(get_instrument("phq9"))
    )


def test_phq9_response_matches_golden() -> None:
    response, _, _ = build(get_instrument("phq9"), PHQ9_ANSWERS)

    check_golden("phq9-response.json", response)


def test_phq9_observation_matches_golden() -> None:
    _, observation, result = build(get_instrument("phq9"), PHQ9_ANSWERS)

    assert result.total == 15
    check_golden("phq9-observation.json", observation)


# Inputs refused --------------------------------------------------------------------


def _response(**overrides: Any) -> Resource:
    arguments: dict[str, Any] = {
        "response_id": RESPONSE,
        "patient_id": PATIENT,
        "instrument": get_instrument("phq9"),
        "answers": PHQ9_ANSWERS,
        "authored": AUTHORED,
        "author_id": None,
        "source": CaptureChannel.PORTAL,
    }
    return questionnaire_response_resource(**(arguments | overrides))


@pytest.mark.parametrize(
    ("code", "channel", "author_id", "author", "answered_by"),
    [
        ("phq9", "portal", None, "Patient", "Patient"),
        ("phq9", "kiosk", None, "Patient", "Patient"),
        ("phq9", "self_check", None, "Patient", "Patient"),
        ("phq9", "staff", STAFF, "Practitioner", "Patient"),  # a paper form typed in
        ("phq9", "api", None, None, "Patient"),
        ("madrs", "staff", STAFF, "Practitioner", "Practitioner"),
        ("madrs", "api", None, None, None),
    ],
)
def test_author_recorded_the_answers_and_source_gave_them(
    code: str,
    channel: str,
    author_id: UUID | None,
    author: str | None,
    answered_by: str | None,
) -> None:
    instrument = get_instrument(code)
    response = _response(
        instrument=instrument,
        answers=lowest_answers(instrument),
        source=channel,
        author_id=author_id,
    )
    ids = {"Patient": PATIENT, "Practitioner": STAFF}

    assert response["meta"] == {
        "tag": [{"system": codes.CAPTURE_CHANNELS, "code": channel}]
    }
    assert response.get("author") == (
        reference(author, ids[author]) if author else None
    )
    assert response.get("source") == (
        reference(answered_by, ids[answered_by]) if answered_by else None
    )
    assert round_trip(QuestionnaireResponse, response) == as_json(response)


def test_unanswered_items_are_left_out() -> None:
    response = _response(answers=PHQ9_ANSWERS | {"phq9-10": None})

    assert [item["linkId"] for item in response["item"]][-1] == "phq9-9"


@pytest.mark.parametrize(
    ("authored", "text"),
    [
        (AUTHORED, "2026-01-05T09:30:00Z"),
        (
            datetime(2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(hours=-5))),
            "2026-01-05T09:30:00-05:00",
        ),
        (
            datetime(2026, 1, 5, 9, 30, 1, 250000, tzinfo=UTC),
            "2026-01-05T09:30:01.250000Z",
        ),
    ],
)
def test_authored_keeps_its_offset_and_writes_utc_as_z(
    authored: datetime, text: str
) -> None:
    response = _response(authored=authored)

    assert response["authored"] == text
    assert round_trip(QuestionnaireResponse, response)["authored"] == text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"authored": datetime(2026, 1, 5, 9, 30)}, "timezone-aware"),  # noqa: DTZ001
        ({"answers": {"phq9-11": 1}}, "not items of phq9: phq9-11"),
        ({"answers": {"phq9-1": 4}}, "4 is not an option"),
        ({"answers": {"phq9-1": True}}, "must be an int option value"),
        ({"answers": {"phq9-1": "1"}}, "must be an int option value"),
        (
            {"source": "paper"},
            "source must be one of staff, portal, kiosk, self_check, api",
        ),
    ],
)
def test_response_refuses_bad_input(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        _response(**overrides)


def test_observation_refuses_a_score_for_another_instrument() -> None:
    phq2_score = score("phq2", {"phq2-1": 0, "phq2-2": 0})

    with pytest.raises(ValueError, match="score is for phq2"):
        score_observation_resource(
            observation_id=OBSERVATION,
            patient_id=PATIENT,
            response_id=RESPONSE,
            instrument=get_instrument("phq9"),
            score=phq2_score,
            effective=AUTHORED,
        )


# references.py and purity ----------------------------------------------------------


def test_reference_is_type_slash_uuid() -> None:
    assert reference("Patient", PATIENT) == {"reference": f"Patient/{PATIENT}"}


@pytest.mark.parametrize(
    ("resource_type", "uuid", "error"),
    [
        ("patient", PATIENT, ValueError),
        ("Patient/x", PATIENT, ValueError),
        ("Patient", str(PATIENT), TypeError),
        ("Patient", 42, TypeError),
    ],
)
def test_reference_refuses_bad_input(
    resource_type: str, uuid: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        reference(resource_type, uuid)


def test_fhir_modules_import_only_the_standard_library_and_pure_packages() -> None:
    # fhir.resources (and the pydantic it raises) validate FHIR without Django.
    allowed = (
        "neuroclinic.measures",
        "neuroclinic.interop.fhir",
        "fhir.resources",
        "pydantic",
    )
    package = Path(__file__).parents[1] / "fhir"
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in sys.stdlib_module_names or name.startswith(
                    allowed
                ), f"{path.name} imports {name}"


def test_hamd17_has_no_loinc_and_is_rendered_as_text_with_a_local_score_code() -> None:
    """No LOINC panel, item or total code for the HAM-D17 could be verified (docs/sources.md,
    M9; decisions "tms10d"): the Questionnaire carries no `code`, its items only text,
    and the total score Observation a local code with its text."""
    instrument = get_instrument("hamd17")
    assert instrument.loinc_panel is None
    assert instrument.loinc_total is None
    assert all(item.loinc is None for item in instrument.items)
    assert all(
        option.loinc_answer is None
        for item in instrument.items
        for option in item.options
    )
    resource = questionnaire_resource(instrument)
    assert "code" not in resource
    asked = [i for i in resource["item"] if i["type"] != "display"]
    assert asked
    assert all("code" not in i and i["text"] for i in asked)
    _, observation, _ = build(instrument, lowest_answers(instrument))
    assert observation["code"]["coding"] == [
        {
            "system": codes.INSTRUMENT_SCORES,
            "code": "hamd17-total",
            "display": observation["code"]["coding"][0]["display"],
        }
    ]
    assert "HAM-D" in observation["code"]["text"]
