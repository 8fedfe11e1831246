"""Instrument definitions and scoring: the registry, band edges, refusals, the answer-level safety check, purity.

Each instrument's own rules: test_instrument_rules.py; properties over every instrument:
test_instrument_properties.py.

Pure tests: no Django, no database.
"""

import ast
import dataclasses
import re
import sys
from pathlib import Path

import pytest

from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    Instrument,
    InvalidResponse,
    Item,
    Rater,
    ResponseErrorCode,
    UnknownInstrument,
    answer_raises_safety_alert,
    get_instrument,
    score,
)
from neuroclinic.measures.instruments.catalogue import CADSS6_SOURCE_ITEMS
from neuroclinic.measures.tests.factories import (
    SUMMED,
    answers_with_total,
    error_codes,
    lowest_points_value,
)

# Registry ----------------------------------------------------------------------


def test_registry_holds_exactly_the_fourteen_codes() -> None:
    assert set(INSTRUMENTS) == {
        "phq9",
        "phq2",
        "gad7",
        "qids-sr16",
        "madrs",
        "cssrs-screener",
        "pcl5",
        "mdq",
        "audit-c",
        "dast10",
        "cadss6",
        "phq8",
        "gad2",
        "hamd17",
    }
    for code, instrument in INSTRUMENTS.items():
        assert instrument.code == code
        assert get_instrument(code) is instrument


@pytest.mark.parametrize("code", ["phq4", "PHQ9", "", "hamd21"])
def test_unknown_code_raises_lookup_error(code: str) -> None:
    with pytest.raises(UnknownInstrument) as error:
        get_instrument(code)

    assert isinstance(error.value, LookupError)
    with pytest.raises(UnknownInstrument):
        score(code, {})


def test_instrument_object_with_unregistered_code_is_refused() -> None:
    phq4 = dataclasses.replace(get_instrument("phq9"), code="phq4")

    with pytest.raises(UnknownInstrument):
        score(phq4, {})


def test_score_accepts_an_instrument_object() -> None:
    result = score(get_instrument("gad7"), answers_with_total("gad7", 10))

    assert result.instrument_code == "gad7"
    assert result.instrument_version == "1.0"
    assert result.total == 10


@pytest.mark.parametrize("instrument", list(INSTRUMENTS.values()), ids=str)
def test_link_ids_follow_the_scheme_and_are_unique(instrument: Instrument) -> None:
    link_ids = [item.link_id for item in instrument.items]

    assert len(link_ids) == len(set(link_ids))
    pattern = re.compile(rf"{re.escape(instrument.code)}-\d+[a-z]?")
    assert all(pattern.fullmatch(link_id) for link_id in link_ids), link_ids


@pytest.mark.parametrize("instrument", list(INSTRUMENTS.values()), ids=str)
def test_items_have_distinct_labelled_options(instrument: Instrument) -> None:
    for item in instrument.items:
        values = [option.value for option in item.options]
        assert len(values) == len(set(values)) >= 2
        assert all(option.label for option in item.options)
        assert item.text


@pytest.mark.parametrize("instrument", list(INSTRUMENTS.values()), ids=str)
def test_branching_points_back_to_an_earlier_item_option(
    instrument: Instrument,
) -> None:
    earlier: dict[str, Item] = {}
    for item in instrument.items:
        if item.enable_when is not None:
            controller = earlier[item.enable_when.link_id]
            assert item.enable_when.answer in controller.option_values
        earlier[item.link_id] = item
    for group in instrument.required_one_of:
        assert all(link_id in earlier for link_id in group)


@pytest.mark.parametrize("instrument", [i for i in SUMMED if i.bands], ids=str)
def test_bands_tile_the_total_range_without_gaps(instrument: Instrument) -> None:
    assert instrument.total_range is not None

    lowest, highest = instrument.total_range
    assert instrument.bands[0].lowest == lowest
    assert instrument.bands[-1].highest == highest
    for below, above in zip(instrument.bands, instrument.bands[1:], strict=False):
        assert above.lowest == below.highest + 1


@pytest.mark.parametrize(
    ("code", "redistributable", "rater"),
    [
        ("phq9", True, Rater.PATIENT),
        ("phq2", True, Rater.PATIENT),
        ("gad7", True, Rater.PATIENT),
        ("qids-sr16", False, Rater.PATIENT),
        ("madrs", False, Rater.CLINICIAN),
        ("hamd17", False, Rater.CLINICIAN),
        ("cssrs-screener", False, Rater.CLINICIAN),
        ("pcl5", True, Rater.PATIENT),
        ("mdq", False, Rater.PATIENT),
        ("audit-c", True, Rater.PATIENT),
        ("dast10", False, Rater.PATIENT),
        ("cadss6", False, Rater.CLINICIAN),
        ("phq8", True, Rater.PATIENT),
        ("gad2", True, Rater.PATIENT),
    ],
)
def test_licence_and_rater(code: str, redistributable: bool, rater: Rater) -> None:
    instrument = get_instrument(code)

    assert instrument.wording_redistributable is redistributable
    assert instrument.rater == rater
    assert instrument.source
    assert instrument.licence


@pytest.mark.parametrize(
    ("code", "panel", "total"),
    [
        ("phq9", "44249-1", "44261-6"),
        ("phq2", "55757-9", "55758-7"),
        ("gad7", "69737-5", "70274-6"),
        ("audit-c", "72109-2", "75626-2"),
        ("dast10", "82666-9", "82667-7"),
        ("pcl5", "101697-1", None),
        ("qids-sr16", None, None),
        ("madrs", None, None),
        ("hamd17", None, None),  # no LOINC panel or total verified: local codes
        ("cssrs-screener", None, None),
        ("mdq", None, None),
        ("cadss6", None, None),
        ("phq8", None, None),  # not verified against loinc.org: local codes
        ("gad2", None, None),
    ],
)
def test_loinc_panel_and_total_codes(
    code: str, panel: str | None, total: str | None
) -> None:
    instrument = get_instrument(code)

    assert instrument.loinc_panel == panel
    assert instrument.loinc_total == total


def test_phq9_item_codes_match_loinc() -> None:
    phq9 = get_instrument("phq9")

    assert [item.loinc for item in phq9.items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
        "69722-7",
    ]
    assert [(o.value, o.loinc_answer) for o in phq9.items[0].options] == [
        (0, "LA6568-5"),
        (1, "LA6569-3"),
        (2, "LA6570-1"),
        (3, "LA6571-9"),
    ]
    assert phq9.items[8].text == (
        "Thoughts that you would be better off dead, or of hurting yourself in some way"
    )


def test_phq9_item10_is_optional_and_outside_the_total() -> None:
    item10 = get_instrument("phq9").item("phq9-10")

    assert item10.required is False
    assert item10.in_total is False


def test_cadss6_uses_the_published_short_form_items() -> None:
    cadss6 = get_instrument("cadss6")

    assert CADSS6_SOURCE_ITEMS == (1, 2, 6, 7, 15, 22)
    assert len(cadss6.items) == 6
    assert all(item.option_values == frozenset(range(5)) for item in cadss6.items)


# Band edges --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "total", "severity"),
    [
        ("phq9", 0, "minimal"),
        ("phq9", 4, "minimal"),
        ("phq9", 5, "mild"),
        ("phq9", 9, "mild"),
        ("phq9", 10, "moderate"),
        ("phq9", 14, "moderate"),
        ("phq9", 15, "moderately_severe"),
        ("phq9", 19, "moderately_severe"),
        ("phq9", 20, "severe"),
        ("phq9", 27, "severe"),
        ("gad7", 0, "minimal"),
        ("gad7", 4, "minimal"),
        ("gad7", 5, "mild"),
        ("gad7", 9, "mild"),
        ("gad7", 10, "moderate"),
        ("gad7", 14, "moderate"),
        ("gad7", 15, "severe"),
        ("gad7", 21, "severe"),
        ("qids-sr16", 0, "none"),
        ("qids-sr16", 5, "none"),
        ("qids-sr16", 6, "mild"),
        ("qids-sr16", 10, "mild"),
        ("qids-sr16", 11, "moderate"),
        ("qids-sr16", 15, "moderate"),
        ("qids-sr16", 16, "severe"),
        ("qids-sr16", 20, "severe"),
        ("qids-sr16", 21, "very_severe"),
        ("qids-sr16", 27, "very_severe"),
        ("madrs", 0, "normal"),
        ("madrs", 6, "normal"),
        ("madrs", 7, "mild"),
        ("madrs", 19, "mild"),
        ("madrs", 20, "moderate"),
        ("madrs", 34, "moderate"),
        ("madrs", 35, "severe"),
        ("madrs", 60, "severe"),
        ("hamd17", 0, "normal"),
        ("hamd17", 7, "normal"),
        ("hamd17", 8, "mild"),
        ("hamd17", 16, "mild"),
        ("hamd17", 17, "moderate"),
        ("hamd17", 23, "moderate"),
        ("hamd17", 24, "severe"),
        ("hamd17", 52, "severe"),
        ("dast10", 0, "none"),
        ("dast10", 1, "low"),
        ("dast10", 2, "low"),
        ("dast10", 3, "moderate"),
        ("dast10", 5, "moderate"),
        ("dast10", 6, "substantial"),
        ("dast10", 8, "substantial"),
        ("dast10", 9, "severe"),
        ("dast10", 10, "severe"),
    ],
)
def test_band_edges(code: str, total: int, severity: str) -> None:
    result = score(code, answers_with_total(code, total))

    assert result.total == total
    assert result.severity == severity


@pytest.mark.parametrize(
    ("code", "total"),
    [("phq2", 0), ("phq2", 6), ("pcl5", 0), ("pcl5", 80), ("mdq", 13), ("cadss6", 24)],
)
def test_instruments_without_bands_have_no_severity(code: str, total: int) -> None:
    result = score(code, answers_with_total(code, total))

    assert result.total == total
    assert result.severity is None


@pytest.mark.parametrize("instrument", SUMMED, ids=str)
def test_lowest_and_highest_answers_reach_the_published_range(
    instrument: Instrument,
) -> None:
    assert instrument.total_range is not None
    lowest = {i.link_id: lowest_points_value(i) for i in instrument.items}
    highest = {i.link_id: max(i.option_values, key=i.points) for i in instrument.items}

    assert score(instrument, lowest, sex="female").total == instrument.total_range[0]
    assert score(instrument, highest, sex="female").total == instrument.total_range[1]


# Refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2", ResponseErrorCode.WRONG_TYPE),
        (True, ResponseErrorCode.WRONG_TYPE),
        (False, ResponseErrorCode.WRONG_TYPE),
        (2.0, ResponseErrorCode.WRONG_TYPE),
        (1.5, ResponseErrorCode.WRONG_TYPE),
        ([1], ResponseErrorCode.WRONG_TYPE),
        (b"1", ResponseErrorCode.WRONG_TYPE),
        (4, ResponseErrorCode.NOT_AN_OPTION),
        (-1, ResponseErrorCode.NOT_AN_OPTION),
        (None, ResponseErrorCode.MISSING),
    ],
)
def test_bad_values_are_refused(value: object, code: str) -> None:
    answers = answers_with_total("phq9", 5) | {"phq9-4": value}

    with pytest.raises(InvalidResponse) as error:
        score("phq9", answers)

    assert isinstance(error.value, ValueError)
    assert error_codes(error) == {("phq9-4", code)}
    assert "phq9-4" in error.value.errors[0].message


@pytest.mark.parametrize("key", ["phq9-11", "PHQ9-1", "phq9_1", "gad7-1"])
def test_unknown_link_ids_are_refused(key: str) -> None:
    answers = answers_with_total("phq9", 5) | {key: 0}

    with pytest.raises(InvalidResponse) as error:
        score("phq9", answers)

    assert error_codes(error) == {(key, ResponseErrorCode.UNKNOWN_ITEM)}


def test_missing_required_item_is_refused_not_prorated() -> None:
    answers = answers_with_total("phq9", 5)
    del answers["phq9-1"]

    with pytest.raises(InvalidResponse) as error:
        score("phq9", answers)

    assert error_codes(error) == {("phq9-1", ResponseErrorCode.MISSING)}


def test_every_problem_is_reported_at_once() -> None:
    answers = answers_with_total("phq9", 5)
    del answers["phq9-1"]
    answers |= {"phq9-2": "1", "phq9-3": 7, "phq9-99": 0}

    with pytest.raises(InvalidResponse) as error:
        score("phq9", answers)

    assert error_codes(error) == {
        ("phq9-1", ResponseErrorCode.MISSING),
        ("phq9-2", ResponseErrorCode.WRONG_TYPE),
        ("phq9-3", ResponseErrorCode.NOT_AN_OPTION),
        ("phq9-99", ResponseErrorCode.UNKNOWN_ITEM),
    }


def test_answers_must_be_a_mapping() -> None:
    with pytest.raises(InvalidResponse) as error:
        score("phq9", [0] * 9)  # type: ignore[arg-type]  # the refusal is the point

    assert error_codes(error) == {(None, ResponseErrorCode.NOT_A_MAPPING)}


def test_empty_response_lists_every_required_item() -> None:
    with pytest.raises(InvalidResponse) as error:
        score("gad7", {})

    assert error_codes(error) == {
        (f"gad7-{n}", ResponseErrorCode.MISSING) for n in range(1, 8)
    }


# Answer-level safety check -----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "link_id", "value", "alert"),
    [
        ("phq9", "phq9-9", 0, False),
        ("phq9", "phq9-9", 1, True),
        ("phq9", "phq9-8", 3, False),
        ("qids-sr16", "qids-sr16-12", 1, True),
        ("madrs", "madrs-10", 2, True),
        ("hamd17", "hamd17-3", 1, True),
        ("hamd17", "hamd17-3", 0, False),
        ("hamd17", "hamd17-1", 4, False),
        ("gad7", "gad7-7", 3, False),
        ("cssrs-screener", "cssrs-screener-1", 1, True),
        ("cssrs-screener", "cssrs-screener-5", 0, False),
        ("cssrs-screener", "cssrs-screener-6a", 1, True),
    ],
)
def test_single_answer_safety_check(
    code: str, link_id: str, value: int, alert: bool
) -> None:
    assert answer_raises_safety_alert(code, link_id, value) is alert


@pytest.mark.parametrize(
    ("link_id", "value", "code"),
    [
        ("phq9-12", 1, ResponseErrorCode.UNKNOWN_ITEM),
        ("phq9-9", True, ResponseErrorCode.WRONG_TYPE),
        ("phq9-9", "1", ResponseErrorCode.WRONG_TYPE),
        ("phq9-9", 4, ResponseErrorCode.NOT_AN_OPTION),
    ],
)
def test_single_answer_safety_check_refuses_bad_input(
    link_id: str, value: object, code: str
) -> None:
    with pytest.raises(InvalidResponse) as error:
        answer_raises_safety_alert("phq9", link_id, value)

    assert error_codes(error) == {(link_id, code)}


# Purity ------------------------------------------------------------------------


# The clinical rule modules; the app's models, actions and views use Django.
PURE_MODULES = ("instruments", "outcomes.py", "schedules.py", "trajectory.py")
PURE_PREFIXES = (
    "neuroclinic.measures.instruments",
    "neuroclinic.measures.outcomes",
    "neuroclinic.measures.schedules",
    "neuroclinic.measures.trajectory",
)


def test_measures_rule_modules_import_only_the_standard_library() -> None:
    package = Path(__file__).resolve().parent.parent
    modules = [
        p
        for name in PURE_MODULES
        for p in (
            [package / name] if name.endswith(".py") else (package / name).rglob("*.py")
        )
    ]
    assert len(modules) >= 6

    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path}: relative import"
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or name.startswith(
                    PURE_PREFIXES
                ), f"{path}: imports {name}"
