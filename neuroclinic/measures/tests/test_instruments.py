"""Instrument definitions and scoring: band edges, flags, branching, refusals, properties.

Pure tests: no Django, no database.
"""

import ast
import dataclasses
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuroclinic.measures.instruments import (
    CSSRS_ALERT_TRIAGE,
    INSTRUMENTS,
    PCL5_PROVISIONAL_PTSD_CUTOFF,
    Instrument,
    InstrumentCode,
    InvalidResponse,
    Item,
    Rater,
    ResponseErrorCode,
    ScoreFlag,
    Severity,
    Sex,
    Triage,
    UnknownInstrument,
    answer_raises_safety_alert,
    get_instrument,
    score,
)
from neuroclinic.measures.instruments.catalogue import CADSS6_SOURCE_ITEMS

SUMMED = [instrument for instrument in INSTRUMENTS.values() if instrument.total_range]

# Helpers -----------------------------------------------------------------------


def _lowest_points_value(item: Item) -> int:
    return min(item.option_values, key=item.points)


def answers_with_total(code: str, total: int) -> dict[str, object]:
    """A valid response to a summed instrument whose published total is `total`.

    Required items start at their lowest-scoring option; points are then added
    greedily, with any suicide item filled last so low totals leave it at 0.
    """
    instrument = get_instrument(code)
    answers: dict[str, object] = {
        item.link_id: _lowest_points_value(item)
        for item in instrument.items
        if item.required
    }
    if code == InstrumentCode.QIDS_SR16:
        answers |= {"qids-sr16-6": 0, "qids-sr16-8": 0}
        # One item per domain, so each point raises its domain's maximum.
        numbers = (1, 5, 6, 10, 11, 13, 14, 15, 12)
        candidates = [f"qids-sr16-{number}" for number in numbers]
    else:
        suicide_items = {"phq9-9", "madrs-10"}
        in_total = [item.link_id for item in instrument.items if item.in_total]
        candidates = sorted(in_total, key=lambda link_id: link_id in suicide_items)

    remaining = total
    for link_id in candidates:
        item = instrument.item(link_id)
        value = max(
            (value for value in item.option_values if item.points(value) <= remaining),
            key=item.points,
        )
        answers[link_id] = value
        remaining -= item.points(value)
    assert remaining == 0, f"{code} cannot reach {total}"
    return answers


def cssrs(
    *,
    wish: int = 0,
    thoughts: int = 0,
    method: int | None = None,
    intent: int | None = None,
    plan: int | None = None,
    behaviour: int = 0,
    recent: int | None = None,
) -> dict[str, object]:
    """A C-SSRS screener response; None leaves the item out."""
    answers: dict[str, object | None] = {
        "cssrs-screener-1": wish,
        "cssrs-screener-2": thoughts,
        "cssrs-screener-3": method,
        "cssrs-screener-4": intent,
        "cssrs-screener-5": plan,
        "cssrs-screener-6": behaviour,
        "cssrs-screener-6a": recent,
    }
    return {link_id: value for link_id, value in answers.items() if value is not None}


def error_codes(
    error: pytest.ExceptionInfo[InvalidResponse],
) -> set[tuple[str | None, str]]:
    return {(e.link_id, e.code) for e in error.value.errors}


# Registry ----------------------------------------------------------------------


def test_registry_holds_exactly_the_eleven_codes() -> None:
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
    }
    for code, instrument in INSTRUMENTS.items():
        assert instrument.code == code
        assert get_instrument(code) is instrument


@pytest.mark.parametrize("code", ["phq8", "PHQ9", "", "hamd17"])
def test_unknown_code_raises_lookup_error(code: str) -> None:
    with pytest.raises(UnknownInstrument) as error:
        get_instrument(code)

    assert isinstance(error.value, LookupError)
    with pytest.raises(UnknownInstrument):
        score(code, {})


def test_instrument_object_with_unregistered_code_is_refused() -> None:
    phq8 = dataclasses.replace(get_instrument("phq9"), code="phq8")

    with pytest.raises(UnknownInstrument):
        score(phq8, {})


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
        ("cssrs-screener", False, Rater.CLINICIAN),
        ("pcl5", True, Rater.PATIENT),
        ("mdq", False, Rater.PATIENT),
        ("audit-c", True, Rater.PATIENT),
        ("dast10", False, Rater.PATIENT),
        ("cadss6", False, Rater.CLINICIAN),
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
        ("cssrs-screener", None, None),
        ("mdq", None, None),
        ("cadss6", None, None),
    ],
)
def test_loinc_panel_and_total_codes(
    code: str, panel: str | None, total: str | None
) -> None:
    instrument = get_instrument(code)

    assert instrument.loinc_panel == panel
    assert instrument.loinc_total == total


def test_phq9_item_codes_match_domain_md() -> None:
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
    lowest = {i.link_id: _lowest_points_value(i) for i in instrument.items}
    highest = {i.link_id: max(i.option_values, key=i.points) for i in instrument.items}

    assert score(instrument, lowest, sex="female").total == instrument.total_range[0]
    assert score(instrument, highest, sex="female").total == instrument.total_range[1]


# PHQ-9 and PHQ-2 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("item9", "total", "flagged"),
    [
        (0, 0, False),
        (1, 1, True),  # minimal total, still a safety flag
        (3, 3, True),
        (0, 24, False),  # severe total without item 9 is not a safety flag
        (1, 25, True),
        (3, 27, True),
    ],
)
def test_phq9_item9_flag_is_independent_of_total(
    item9: int, total: int, flagged: bool
) -> None:
    answers = answers_with_total("phq9", total - item9) | {"phq9-9": item9}

    result = score("phq9", answers)

    assert result.total == total
    assert (ScoreFlag.PHQ9_ITEM9_POSITIVE in result.flags) is flagged
    assert result.safety_alert is flagged


def test_phq9_difficulty_item_does_not_count_toward_total() -> None:
    answers = answers_with_total("phq9", 7)

    without = score("phq9", answers)
    with_difficulty = score("phq9", answers | {"phq9-10": 3})

    assert without.total == with_difficulty.total == 7


@pytest.mark.parametrize(
    ("total", "positive"), [(0, False), (2, False), (3, True), (6, True)]
)
def test_phq2_positive_at_three(total: int, positive: bool) -> None:
    result = score("phq2", answers_with_total("phq2", total))

    assert (ScoreFlag.PHQ2_POSITIVE in result.flags) is positive
    assert result.safety_alert is False


# QIDS-SR16 ---------------------------------------------------------------------


def _qids(**by_number: int) -> dict[str, object]:
    answers: dict[str, object] = {f"qids-sr16-{n}": 0 for n in range(1, 17)}
    return answers | {
        f"qids-sr16-{key.removeprefix('q')}": v for key, v in by_number.items()
    }


def test_qids_domains_take_the_highest_item() -> None:
    answers = _qids(q1=1, q2=3, q3=2, q4=0, q6=1, q7=2, q8=3, q9=0, q15=2, q16=1, q5=1)

    result = score("qids-sr16", answers)

    assert result.subscales == {
        "sleep": 3,
        "sad_mood": 1,
        "appetite_weight": 3,
        "concentration": 0,
        "self_view": 0,
        "suicidal_ideation": 0,
        "interest": 0,
        "energy": 0,
        "psychomotor": 2,
    }
    assert result.total == 9


def test_qids_scores_with_one_of_each_appetite_and_weight_pair() -> None:
    answers = _qids(q6=2, q9=1)
    del answers["qids-sr16-7"], answers["qids-sr16-8"]

    result = score("qids-sr16", answers)

    assert result.subscales["appetite_weight"] == 2
    assert result.total == 2


@pytest.mark.parametrize(
    ("removed", "missing"),
    [
        (("qids-sr16-6", "qids-sr16-7"), "qids-sr16-6"),
        (("qids-sr16-8", "qids-sr16-9"), "qids-sr16-8"),
    ],
)
def test_qids_refuses_a_response_missing_both_of_a_pair(
    removed: tuple[str, str], missing: str
) -> None:
    answers = _qids()
    for link_id in removed:
        del answers[link_id]

    with pytest.raises(InvalidResponse) as error:
        score("qids-sr16", answers)

    assert error_codes(error) == {(missing, ResponseErrorCode.MISSING)}


@pytest.mark.parametrize(("item12", "flagged"), [(0, False), (1, True), (3, True)])
def test_qids_item12_raises_the_safety_alert(item12: int, flagged: bool) -> None:
    result = score("qids-sr16", _qids(q12=item12))

    assert result.total == item12
    assert result.severity == "none"
    assert (ScoreFlag.QIDS_ITEM12_POSITIVE in result.flags) is flagged
    assert result.safety_alert is flagged


# MADRS -------------------------------------------------------------------------


def test_madrs_accepts_the_undefined_intermediate_steps() -> None:
    answers: dict[str, object] = {f"madrs-{n}": 1 for n in range(1, 10)}
    answers |= {"madrs-1": 3, "madrs-2": 5, "madrs-10": 0}

    result = score("madrs", answers)

    assert result.total == 3 + 5 + 7 * 1
    assert result.severity == "mild"


@pytest.mark.parametrize("value", [7, -1, 10])
def test_madrs_refuses_values_beyond_zero_to_six(value: int) -> None:
    answers = answers_with_total("madrs", 0) | {"madrs-3": value}

    with pytest.raises(InvalidResponse) as error:
        score("madrs", answers)

    assert error_codes(error) == {("madrs-3", ResponseErrorCode.NOT_AN_OPTION)}


@pytest.mark.parametrize(("item10", "flagged"), [(0, False), (1, True), (6, True)])
def test_madrs_item10_raises_the_safety_alert(item10: int, flagged: bool) -> None:
    result = score("madrs", answers_with_total("madrs", 0) | {"madrs-10": item10})

    assert (ScoreFlag.MADRS_ITEM10_POSITIVE in result.flags) is flagged
    assert result.safety_alert is flagged


# C-SSRS screener ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "triage"),
    [
        (cssrs(), Triage.NONE),
        (cssrs(wish=1), Triage.LOW),
        (cssrs(thoughts=1, method=0, intent=0, plan=0), Triage.LOW),
        (cssrs(wish=1, thoughts=1, method=1, intent=0, plan=0), Triage.MODERATE),
        (cssrs(thoughts=1, method=0, intent=1, plan=0), Triage.HIGH),
        (cssrs(thoughts=1, method=0, intent=0, plan=1), Triage.HIGH),
        (cssrs(behaviour=1, recent=0), Triage.MODERATE),
        (cssrs(behaviour=1, recent=1), Triage.HIGH),
        (cssrs(wish=1, behaviour=1, recent=0), Triage.MODERATE),
        (
            cssrs(thoughts=1, method=1, intent=0, plan=0, behaviour=1, recent=1),
            Triage.HIGH,
        ),
    ],
)
def test_cssrs_triage(answers: dict[str, object], triage: Triage) -> None:
    result = score("cssrs-screener", answers)

    assert result.triage == triage
    assert result.total is None
    assert result.severity is None
    assert (ScoreFlag.CSSRS_POSITIVE in result.flags) is (triage != Triage.NONE)
    assert result.safety_alert is (triage != Triage.NONE)


def test_cssrs_alert_covers_at_least_moderate_and_high() -> None:
    assert {Triage.MODERATE, Triage.HIGH} <= CSSRS_ALERT_TRIAGE
    assert Triage.NONE not in CSSRS_ALERT_TRIAGE


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # Items 3-5 are asked only after a yes to item 2.
        (cssrs(method=0), {("cssrs-screener-3", ResponseErrorCode.NOT_ASKED)}),
        (
            cssrs(thoughts=0, method=1, intent=0, plan=0),
            {
                ("cssrs-screener-3", ResponseErrorCode.NOT_ASKED),
                ("cssrs-screener-4", ResponseErrorCode.NOT_ASKED),
                ("cssrs-screener-5", ResponseErrorCode.NOT_ASKED),
            },
        ),
        (
            cssrs(thoughts=1, intent=0, plan=0),
            {("cssrs-screener-3", ResponseErrorCode.MISSING)},
        ),
        (
            cssrs(thoughts=1),
            {
                ("cssrs-screener-3", ResponseErrorCode.MISSING),
                ("cssrs-screener-4", ResponseErrorCode.MISSING),
                ("cssrs-screener-5", ResponseErrorCode.MISSING),
            },
        ),
        # The past-3-months follow-up is asked only after a yes to item 6.
        (
            cssrs(behaviour=0, recent=0),
            {("cssrs-screener-6a", ResponseErrorCode.NOT_ASKED)},
        ),
        (cssrs(behaviour=1), {("cssrs-screener-6a", ResponseErrorCode.MISSING)}),
    ],
)
def test_cssrs_refuses_answers_that_break_the_branching(
    answers: dict[str, object], expected: set[tuple[str, str]]
) -> None:
    with pytest.raises(InvalidResponse) as error:
        score("cssrs-screener", answers)

    assert error_codes(error) == expected


def test_cssrs_item6_is_always_asked() -> None:
    answers = cssrs()
    del answers["cssrs-screener-6"]

    with pytest.raises(InvalidResponse) as error:
        score("cssrs-screener", answers)

    assert error_codes(error) == {("cssrs-screener-6", ResponseErrorCode.MISSING)}


def test_cssrs_bad_item2_reports_only_item2() -> None:
    answers = cssrs(method=1) | {"cssrs-screener-2": 2}

    with pytest.raises(InvalidResponse) as error:
        score("cssrs-screener", answers)

    assert error_codes(error) == {("cssrs-screener-2", ResponseErrorCode.NOT_AN_OPTION)}


# PCL-5 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "provisional"), [(0, False), (32, False), (33, True), (80, True)]
)
def test_pcl5_provisional_ptsd_at_cutoff(total: int, provisional: bool) -> None:
    result = score("pcl5", answers_with_total("pcl5", total))

    assert PCL5_PROVISIONAL_PTSD_CUTOFF == 33
    assert result.total == total
    assert (ScoreFlag.PCL5_PROVISIONAL_PTSD in result.flags) is provisional


def test_pcl5_cluster_subscales() -> None:
    answers: dict[str, object] = {f"pcl5-{n}": 0 for n in range(1, 21)}
    answers |= {
        "pcl5-1": 4,
        "pcl5-5": 1,
        "pcl5-7": 3,
        "pcl5-8": 2,
        "pcl5-14": 2,
        "pcl5-20": 1,
    }

    result = score("pcl5", answers)

    assert result.subscales == {
        "cluster_b": 5,
        "cluster_c": 3,
        "cluster_d": 4,
        "cluster_e": 1,
    }
    assert result.total == 13


@pytest.mark.parametrize(
    ("endorsed", "pattern"),
    [
        ({1, 6, 8, 9, 15, 16}, True),  # 1 B, 1 C, 2 D, 2 E
        ({1, 6, 8, 15, 16}, False),  # only 1 D
        ({6, 8, 9, 15, 16}, False),  # no B
        ({1, 8, 9, 15, 16}, False),  # no C
        ({1, 6, 8, 9, 15}, False),  # only 1 E
    ],
)
def test_pcl5_dsm5_symptom_pattern(endorsed: set[int], pattern: bool) -> None:
    # "Moderately" (2) counts as endorsed; "A little bit" (1) everywhere else does not.
    answers: dict[str, object] = {
        f"pcl5-{n}": 2 if n in endorsed else 1 for n in range(1, 21)
    }

    result = score("pcl5", answers)

    assert (ScoreFlag.PCL5_DSM5_SYMPTOM_PATTERN in result.flags) is pattern


# MDQ ---------------------------------------------------------------------------


def _mdq(yes_count: int, *, same_period: int, problem: int) -> dict[str, object]:
    letters = "abcdefghijklm"
    answers: dict[str, object] = {
        f"mdq-1{letter}": int(index < yes_count) for index, letter in enumerate(letters)
    }
    return answers | {"mdq-2": same_period, "mdq-3": problem}


@pytest.mark.parametrize(
    ("yes_count", "same_period", "problem", "positive"),
    [
        (7, 1, 2, True),
        (7, 1, 3, True),
        (13, 1, 3, True),
        (6, 1, 3, False),  # too few symptoms
        (7, 0, 3, False),  # not in the same period
        (7, 1, 1, False),  # minor problem only
        (7, 1, 0, False),
        (13, 0, 0, False),
        (0, 0, 0, False),
    ],
)
def test_mdq_positive_screen_needs_all_three_parts(
    yes_count: int, same_period: int, problem: int, positive: bool
) -> None:
    result = score("mdq", _mdq(yes_count, same_period=same_period, problem=problem))

    assert result.total == yes_count
    assert (ScoreFlag.MDQ_POSITIVE in result.flags) is positive


def test_mdq_history_questions_are_optional_and_unscored() -> None:
    answers = _mdq(7, same_period=1, problem=2)

    with_history = score("mdq", answers | {"mdq-4": 1, "mdq-5": 1})

    assert with_history == score("mdq", answers)


# AUDIT-C -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "sex", "positive"),
    [
        (0, "male", False),
        (3, "male", False),
        (4, "male", True),
        (12, "male", True),
        (0, "female", False),
        (2, "female", False),
        (3, "female", True),
        (12, "female", True),
    ],
)
def test_audit_c_sex_specific_cutoffs(total: int, sex: str, positive: bool) -> None:
    result = score("audit-c", answers_with_total("audit-c", total), sex=sex)

    assert result.total == total
    assert (ScoreFlag.AUDIT_C_POSITIVE in result.flags) is positive


def test_audit_c_accepts_the_sex_enum() -> None:
    result = score("audit-c", answers_with_total("audit-c", 3), sex=Sex.FEMALE)

    assert ScoreFlag.AUDIT_C_POSITIVE in result.flags


@pytest.mark.parametrize(
    ("sex", "code"),
    [
        (None, ResponseErrorCode.MISSING_SEX),
        ("other", ResponseErrorCode.INVALID_SEX),
        ("unknown", ResponseErrorCode.INVALID_SEX),
        ("Male", ResponseErrorCode.INVALID_SEX),
        ("", ResponseErrorCode.INVALID_SEX),
    ],
)
def test_audit_c_cannot_be_scored_without_a_known_sex(
    sex: str | None, code: str
) -> None:
    with pytest.raises(InvalidResponse) as error:
        score("audit-c", answers_with_total("audit-c", 5), sex=sex)

    assert error_codes(error) == {(None, code)}


def test_sex_is_ignored_where_cutoffs_do_not_depend_on_it() -> None:
    answers = answers_with_total("phq9", 10)

    assert score("phq9", answers, sex="other") == score("phq9", answers)


# DAST-10 -----------------------------------------------------------------------


def _dast(yes_items: set[int]) -> dict[str, object]:
    return {f"dast10-{n}": int(n in yes_items) for n in range(1, 11)}


@pytest.mark.parametrize(
    ("yes_items", "total", "severity"),
    [
        ({3}, 0, "none"),  # "always able to stop": yes scores 0
        (set(), 1, "low"),  # "no" to item 3 scores 1
        ({1}, 2, "low"),
        ({1, 2, 3, 4}, 3, "moderate"),
        (set(range(1, 11)), 9, "severe"),
        (set(range(1, 11)) - {3}, 10, "severe"),
    ],
)
def test_dast10_item3_is_reverse_scored(
    yes_items: set[int], total: int, severity: str
) -> None:
    result = score("dast10", _dast(yes_items))

    assert result.total == total
    assert result.severity == severity


# CADSS-6 -----------------------------------------------------------------------


@pytest.mark.parametrize("total", [0, 1, 12, 24])
def test_cadss6_is_summed_without_bands_or_flags(total: int) -> None:
    result = score("cadss6", answers_with_total("cadss6", total))

    assert result.total == total
    assert result.severity is None
    assert result.flags == ()
    assert result.safety_alert is False


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


# Properties over the whole registry --------------------------------------------


@st.composite
def valid_answers(draw: st.DrawFn, instrument: Instrument) -> dict[str, object]:
    """Any response the published form allows, branching and either/or pairs included."""
    answers: dict[str, object] = {}
    for item in instrument.items:
        condition = item.enable_when
        if condition is not None and answers.get(condition.link_id) != condition.answer:
            continue
        values = sorted(item.option_values)
        if item.required:
            answers[item.link_id] = draw(st.sampled_from(values))
        elif (value := draw(st.none() | st.sampled_from(values))) is not None:
            answers[item.link_id] = value
    for group in instrument.required_one_of:
        if not any(link_id in answers for link_id in group):
            first = instrument.item(group[0])
            answers[first.link_id] = draw(st.sampled_from(sorted(first.option_values)))
    return answers


@st.composite
def responses(
    draw: st.DrawFn, instruments: list[Instrument]
) -> tuple[Instrument, dict[str, object], Sex]:
    instrument = draw(st.sampled_from(instruments))
    return instrument, draw(valid_answers(instrument)), draw(st.sampled_from(list(Sex)))


ALL = list(INSTRUMENTS.values())


@given(responses(ALL))
def test_every_valid_response_scores_and_keeps_the_answers_unchanged(
    response: tuple[Instrument, dict[str, object], Sex],
) -> None:
    instrument, answers, sex = response
    before = dict(answers)

    result = score(instrument, answers, sex=sex)

    assert answers == before
    assert result.instrument_code == instrument.code
    assert result.instrument_version == instrument.version
    assert (result.triage is None) is (instrument.code != "cssrs-screener")


@given(responses(SUMMED))
def test_totals_stay_in_the_published_range_and_bands(
    response: tuple[Instrument, dict[str, object], Sex],
) -> None:
    instrument, answers, sex = response
    assert instrument.total_range is not None

    result = score(instrument, answers, sex=sex)

    assert result.total is not None
    assert instrument.total_range[0] <= result.total <= instrument.total_range[1]
    bands = [
        b.severity for b in instrument.bands if b.lowest <= result.total <= b.highest
    ]
    assert bands == ([result.severity] if instrument.bands else [])


@given(responses(SUMMED), st.data())
def test_total_never_falls_when_one_answer_scores_higher(
    response: tuple[Instrument, dict[str, object], Sex], data: st.DataObject
) -> None:
    instrument, answers, sex = response
    link_id = data.draw(st.sampled_from(sorted(answers)))
    item = instrument.item(link_id)
    old_value = answers[link_id]
    assert isinstance(old_value, int)
    new_value = data.draw(st.sampled_from(sorted(item.option_values)))

    before = score(instrument, answers, sex=sex).total
    after = score(instrument, answers | {link_id: new_value}, sex=sex).total

    assert before is not None
    assert after is not None
    if not item.in_total:
        assert after == before
    elif item.points(new_value) >= item.points(old_value):
        assert after >= before
    else:
        assert after <= before


@given(responses(ALL), st.data())
def test_dropping_a_required_answer_is_refused(
    response: tuple[Instrument, dict[str, object], Sex], data: st.DataObject
) -> None:
    instrument, answers, sex = response
    required = sorted(
        i.link_id for i in instrument.items if i.required and i.link_id in answers
    )
    link_id = data.draw(st.sampled_from(required))
    del answers[link_id]

    with pytest.raises(InvalidResponse) as error:
        score(instrument, answers, sex=sex)

    assert (link_id, ResponseErrorCode.MISSING) in error_codes(error)


@given(responses(ALL), st.data())
def test_an_answer_of_the_wrong_type_is_refused(
    response: tuple[Instrument, dict[str, object], Sex], data: st.DataObject
) -> None:
    instrument, answers, sex = response
    link_id = data.draw(st.sampled_from(sorted(answers)))
    value = answers[link_id]
    assert isinstance(value, int)
    wrong = data.draw(st.sampled_from([bool(value), str(value), float(value)]))

    with pytest.raises(InvalidResponse) as error:
        score(instrument, answers | {link_id: wrong}, sex=sex)

    assert error_codes(error) == {(link_id, ResponseErrorCode.WRONG_TYPE)}


@given(responses(ALL))
def test_safety_alert_is_raised_exactly_when_some_answer_raises_it(
    response: tuple[Instrument, dict[str, object], Sex],
) -> None:
    instrument, answers, sex = response

    result = score(instrument, answers, sex=sex)

    assert result.safety_alert is any(
        answer_raises_safety_alert(instrument, link_id, value)
        for link_id, value in answers.items()
    )


@given(valid_answers(get_instrument("phq9")))
def test_phq9_item9_flag_tracks_item9_alone(answers: dict[str, object]) -> None:
    result = score("phq9", answers)

    item9 = answers["phq9-9"]
    assert isinstance(item9, int)
    assert (ScoreFlag.PHQ9_ITEM9_POSITIVE in result.flags) is (item9 >= 1)
    assert result.severity in set(Severity)


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
