"""The TMS course summary's scores: one row per instrument the course recorded, each
change computed from that instrument's own totals (never mixing instruments)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from neuroclinic.letters import course_scores
from neuroclinic.letters.course_scores import Score
from neuroclinic.measures.outcomes import REMISSION_MAX_TOTAL, OutcomeRules

START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
NAMES = {"phq9": "PHQ-9", "madrs": "MADRS", "gad7": "GAD-7", "cadss6": "CADSS-6"}


def at(days: float) -> datetime:
    return START + timedelta(days=days)


def rows(*scores: Score) -> dict[str, course_scores.InstrumentRow]:
    return {
        r.instrument: r
        for r in course_scores.summarise(
            scores,
            course_start=START,
            names=NAMES,
            side_effect_scales=frozenset({"cadss6"}),
        )
    }


@pytest.mark.parametrize(
    ("scores", "code", "expected"),
    [
        # PHQ-9 20 -> 8: -60.0 %, response, no remission (8 > 4).
        (
            [
                Score("phq9", at(-2), 20),
                Score("phq9", at(20), 12),
                Score("phq9", at(40), 8),
            ],
            "phq9",
            (20, 8, Decimal("-60.0"), True, False),
        ),
        # The baseline is the last score before the first session, not an older one.
        (
            [
                Score("phq9", at(-10), 27),
                Score("phq9", at(-1), 18),
                Score("phq9", at(40), 4),
            ],
            "phq9",
            (18, 4, Decimal("-77.8"), True, True),
        ),
        # No score before the course: its first score is the baseline.
        (
            [Score("madrs", at(1), 30), Score("madrs", at(40), 16)],
            "madrs",
            (30, 16, Decimal("-46.7"), False, False),
        ),
        # MADRS remission at 10 or less (outcomes.REMISSION_MAX_TOTAL).
        (
            [Score("madrs", at(-1), 30), Score("madrs", at(40), 10)],
            "madrs",
            (30, 10, Decimal("-66.7"), True, True),
        ),
        # GAD-7: totals and change, no response or remission rule defined.
        (
            [Score("gad7", at(-1), 15), Score("gad7", at(40), 6)],
            "gad7",
            (15, 6, Decimal("-60.0"), None, None),
        ),
        # A side-effect scale: scores only.
        (
            [Score("cadss6", at(0.1), 4), Score("cadss6", at(30), 1)],
            "cadss6",
            (4, 1, None, None, None),
        ),
        # A baseline of 0: no percent change (undefined), remission still read.
        (
            [Score("phq9", at(-1), 0), Score("phq9", at(40), 3)],
            "phq9",
            (0, 3, None, None, True),
        ),
        # One score only: nothing to compare.
        ([Score("phq9", at(-1), 17)], "phq9", (17, None, None, None, None)),
    ],
)
def test_each_instrument_row(
    scores: list[Score],
    code: str,
    expected: tuple[int, int | None, Decimal | None, bool | None, bool | None],
) -> None:
    row = rows(*scores)[code]
    assert (
        row.baseline,
        row.latest,
        row.change_percent,
        row.response,
        row.remission,
    ) == expected


def test_instruments_are_never_mixed() -> None:
    """PHQ-9 before and MADRS after must not make a PHQ-9 change (or any change)."""
    found = rows(Score("phq9", at(-1), 20), Score("madrs", at(40), 6))
    assert found["phq9"].latest is None
    assert found["phq9"].change_percent is None
    assert found["madrs"].latest is None
    assert found["madrs"].change_percent is None
    both = rows(
        Score("phq9", at(-1), 20),
        Score("madrs", at(-1), 34),
        Score("phq9", at(40), 10),
        Score("madrs", at(40), 17),
    )
    assert both["phq9"].change_percent == Decimal("-50.0")
    assert both["madrs"].change_percent == Decimal("-50.0")
    assert (both["phq9"].baseline, both["madrs"].baseline) == (20, 34)


def test_rows_follow_the_catalogue_order_and_the_table_has_one_row_each() -> None:
    found = course_scores.summarise(
        [
            Score("gad7", at(-1), 12),
            Score("phq9", at(-1), 20),
            Score("gad7", at(40), 5),
            Score("phq9", at(40), 10),
        ],
        course_start=START,
        names=NAMES,
    )
    assert [r.instrument for r in found] == ["phq9", "gad7"]
    table = course_scores.markdown_table(found)
    lines = table.splitlines()
    assert lines[2] == "| PHQ-9 | 20 | 10 | -50.0% | yes | no |"
    assert lines[3] == "| GAD-7 | 12 | 5 | -58.3% | not defined | not defined |"
    assert course_scores.markdown_table([]) == ""


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # MADRS 30 -> 16 is -46.7 %: no response by the cited 50 %, a response by a
        # clinic's 40 %; 16 is remission only where the clinic's MADRS maximum is 16.
        (OutcomeRules(), (False, False)),
        (
            OutcomeRules(response_reduction_percent=40, partial_reduction_percent=20),
            (True, False),
        ),
        (
            OutcomeRules(remission_max={**REMISSION_MAX_TOTAL, "madrs": 16}),
            (False, True),
        ),
    ],
)
def test_the_clinics_outcome_definitions_judge_each_row(
    rules: OutcomeRules, expected: tuple[bool, bool]
) -> None:
    [row] = course_scores.summarise(
        [Score("madrs", at(1), 30), Score("madrs", at(40), 16)],
        course_start=START,
        names=NAMES,
        rules=rules,
    )

    assert (row.response, row.remission) == expected
