"""Each instrument's own scoring rules: flags, branching, subscales and cut-offs, as published.

Pure tests: no Django, no database.
"""

import pytest

from neuroclinic.measures.instruments import (
    CSSRS_ALERT_TRIAGE,
    PCL5_PROVISIONAL_PTSD_CUTOFF,
    InvalidResponse,
    ResponseErrorCode,
    ScoreFlag,
    Sex,
    Triage,
    score,
)
from neuroclinic.measures.tests.factories import (
    answers_with_total,
    cssrs,
    error_codes,
)

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
