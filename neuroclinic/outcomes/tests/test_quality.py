"""CMS159 on a hand-built cohort whose answer is known (Source: M17)."""

from datetime import date

import pytest

from neuroclinic.outcomes.quality import (
    CMS159,
    SIX_MONTH,
    PatientFacts,
    add_months,
    evaluate,
)

START, END = date(2025, 1, 1), date(2025, 12, 31)
ADULT = date(1980, 5, 5)
MDD = ("F33.2",)

COHORT = [
    # ref, birth, diagnoses, scores, died, (denominator, exclusion, numerator)
    (
        "remits",
        ADULT,
        MDD,
        ((date(2025, 2, 1), 18), (date(2026, 2, 10), 3)),
        None,
        (True, "", True),
    ),
    (
        "not remitted",
        ADULT,
        MDD,
        ((date(2025, 2, 1), 18), (date(2026, 2, 10), 7)),
        None,
        (True, "", False),
    ),
    ("no follow-up", ADULT, MDD, ((date(2025, 2, 1), 18),), None, (True, "", False)),
    (
        "outside window",
        ADULT,
        MDD,
        ((date(2025, 2, 1), 18), (date(2026, 5, 1), 2)),
        None,
        (True, "", False),
    ),
    (
        "last in window counts",
        ADULT,
        MDD,
        ((date(2025, 2, 1), 18), (date(2026, 1, 1), 2), (date(2026, 3, 1), 8)),
        None,
        (True, "", False),
    ),
    (
        "index not above 9",
        ADULT,
        MDD,
        ((date(2025, 2, 1), 9), (date(2026, 2, 1), 2)),
        None,
        (False, "", False),
    ),
    (
        "no depression",
        ADULT,
        ("F41.1",),
        ((date(2025, 2, 1), 18),),
        None,
        (False, "", False),
    ),
    (
        "bipolar",
        ADULT,
        (*MDD, "F31.81"),
        ((date(2025, 2, 1), 18), (date(2026, 2, 1), 2)),
        None,
        (True, "bipolar disorder", False),
    ),
    (
        "died",
        ADULT,
        MDD,
        ((date(2025, 2, 1), 18),),
        date(2025, 9, 1),
        (True, "died", False),
    ),
    (
        "eleven",
        date(2014, 6, 1),
        MDD,
        ((date(2025, 2, 1), 18), (date(2026, 2, 1), 2)),
        None,
        (False, "", False),
    ),
    (
        "index before period",
        ADULT,
        MDD,
        ((date(2024, 12, 1), 18), (date(2025, 12, 1), 2)),
        None,
        (False, "", False),
    ),
]


def cohort() -> list[PatientFacts]:
    return [
        PatientFacts(ref, birth, dx, scores, died)
        for ref, birth, dx, scores, died, _ in COHORT
    ]


def test_cms159_known_answer() -> None:
    result = evaluate(CMS159, cohort(), START, END)
    assert (result.denominator, result.exclusions, result.numerator) == (5, 2, 1)
    assert str(result.rate_percent) == "20.0"


@pytest.mark.parametrize("row", COHORT, ids=[r[0] for r in COHORT])
def test_each_patient_is_listed_with_its_reason(row: tuple) -> None:  # type: ignore[type-arg]
    ref, *_, expected = row
    result = evaluate(CMS159, cohort(), START, END)
    found = next(p for p in result.patients if p.ref == ref)
    assert (found.in_denominator, found.exclusion, found.in_numerator) == expected
    assert found.reason


def test_six_month_companion_uses_six_months() -> None:
    facts = [
        PatientFacts(
            "six", ADULT, MDD, ((date(2025, 2, 1), 18), (date(2025, 8, 15), 2))
        )
    ]
    assert evaluate(SIX_MONTH, facts, START, END).numerator == 1
    assert evaluate(CMS159, facts, START, END).numerator == 0


def test_empty_denominator_has_no_rate() -> None:
    assert evaluate(CMS159, [], START, END).rate_percent is None


def test_reversed_period_is_refused() -> None:
    with pytest.raises(ValueError, match="ends before"):
        evaluate(CMS159, [], END, START)


def test_add_months_clamps_month_ends() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 12) == date(2026, 11, 15)
