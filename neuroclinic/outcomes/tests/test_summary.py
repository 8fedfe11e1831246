"""Episode summary rules against the published thresholds (Source: K5, M7, M9, M17, T4)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from neuroclinic.outcomes.summary import (
    OutcomeRules,
    Score,
    Status,
    choose_baseline,
    summarise,
    summarise_episode,
)

FIRST_INFUSION = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def course(*totals: int, start_days: int = -1) -> list[Score]:
    """Scores a week apart; the first is taken before the first infusion."""
    return [
        Score(FIRST_INFUSION + timedelta(days=start_days + 7 * i), total)
        for i, total in enumerate(totals)
    ]


def day(i: int, start_days: int = -1) -> date:
    return (FIRST_INFUSION + timedelta(days=start_days + 7 * i)).date()


# (instrument, totals (first is baseline), expected status, response index, remission index)
STATUS_TABLE = [
    # PHQ-9: response is >= 50% below baseline; remission is < 5 (M17)
    ("phq9", (20, 10), Status.RESPONSE, 1, None),
    ("phq9", (20, 11), Status.PARTIAL, None, None),  # 45% below
    ("phq9", (20, 15), Status.PARTIAL, None, None),  # exactly 25% below
    ("phq9", (20, 16), Status.NO_RESPONSE, None, None),  # 20% below
    ("phq9", (20, 5), Status.RESPONSE, 1, None),  # 5 is not < 5
    ("phq9", (20, 4), Status.REMISSION, 1, 1),
    ("phq9", (6, 4), Status.REMISSION, None, 1),  # remission without a 50% fall
    # QIDS-SR16 remission <= 5 (M7)
    ("qids-sr16", (16, 5), Status.REMISSION, 1, 1),
    ("qids-sr16", (16, 6), Status.RESPONSE, 1, None),
    # MADRS remission <= 10 (M8, T4)
    ("madrs", (30, 10), Status.REMISSION, 1, 1),
    ("madrs", (30, 11), Status.RESPONSE, 1, None),
    # HAM-D17 remission <= 7 (M9)
    ("hamd17", (24, 7), Status.REMISSION, 1, 1),
    ("hamd17", (24, 8), Status.RESPONSE, 1, None),
    # GAD-7: no remission threshold set, response only
    ("gad7", (18, 2), Status.RESPONSE, 1, None),
]


@pytest.mark.parametrize(
    ("code", "totals", "status", "response_at", "remission_at"), STATUS_TABLE
)
def test_status_against_published_thresholds(
    code: str,
    totals: tuple[int, ...],
    status: Status,
    response_at: int | None,
    remission_at: int | None,
) -> None:
    summary = summarise(code, course(*totals), first_infusion_at=FIRST_INFUSION)
    assert summary.status is status
    assert summary.response_on == (
        day(response_at) if response_at is not None else None
    )
    assert summary.remission_on == (
        day(remission_at) if remission_at is not None else None
    )


RELAPSE_TABLE = [
    # (totals, status, relapse index or None)
    ((20, 8, 12, 12), Status.RELAPSE, 2),  # two scores in a row above half baseline
    ((20, 8, 12, 9), Status.RESPONSE, None),  # one score out, then back: no relapse
    ((20, 3, 12, 14, 4), Status.REMISSION, 2),  # relapsed, then remitted again
    ((20, 12, 14, 16), Status.NO_RESPONSE, None),  # never responded: cannot relapse
    ((20, 4, 6, 8), Status.RESPONSE, None),  # lost remission but kept response
]


@pytest.mark.parametrize(("totals", "status", "relapse_at"), RELAPSE_TABLE)
def test_relapse_is_loss_of_response_on_two_consecutive_scores(
    totals: tuple[int, ...], status: Status, relapse_at: int | None
) -> None:
    summary = summarise("phq9", course(*totals), first_infusion_at=FIRST_INFUSION)
    assert summary.status is status
    assert summary.relapse_on == (day(relapse_at) if relapse_at is not None else None)


def test_relapse_rule_is_a_clinic_setting() -> None:
    rules = OutcomeRules(relapse_consecutive=1)
    summary = summarise(
        "phq9", course(20, 8, 12), first_infusion_at=FIRST_INFUSION, rules=rules
    )
    assert summary.status is Status.RELAPSE
    assert summary.relapse_on == day(2)


def test_remission_threshold_is_a_clinic_setting() -> None:
    rules = OutcomeRules(remission_max={"madrs": 12})  # esketamine programme, K21
    summary = summarise(
        "madrs", course(30, 12), first_infusion_at=FIRST_INFUSION, rules=rules
    )
    assert summary.status is Status.REMISSION


def test_baseline_nadir_latest_and_percent_change() -> None:
    summary = summarise("phq9", course(21, 9, 3, 7), first_infusion_at=FIRST_INFUSION)
    assert summary.baseline is not None
    assert summary.baseline.total == 21
    assert summary.nadir is not None
    assert summary.nadir.total == 3
    assert summary.latest is not None
    assert summary.latest.total == 7
    assert summary.change_percent == Decimal("-66.7")
    assert summary.nadir_change_percent == Decimal("-85.7")
    assert summary.follow_up_count == 3


def test_baseline_is_the_last_score_before_the_first_infusion() -> None:
    scores = [
        Score(FIRST_INFUSION - timedelta(days=30), 25),
        Score(FIRST_INFUSION - timedelta(hours=1), 18),
        Score(FIRST_INFUSION + timedelta(hours=4), 9),
    ]
    assert choose_baseline(scores, FIRST_INFUSION) == scores[1]
    summary = summarise(
        "phq9", list(reversed(scores)), first_infusion_at=FIRST_INFUSION
    )
    assert summary.baseline == scores[1]
    assert summary.status is Status.RESPONSE


HONEST_TABLE = [
    # (scores, first infusion, status)
    (course(12, 6, start_days=1), FIRST_INFUSION, Status.NO_BASELINE),  # all after
    (course(20, 8), None, Status.NO_BASELINE),  # no infusion yet
    (course(20), FIRST_INFUSION, Status.NO_FOLLOW_UP),  # a single score
    (course(0, 3), FIRST_INFUSION, Status.ZERO_BASELINE),
    ([], FIRST_INFUSION, Status.NO_BASELINE),
]


@pytest.mark.parametrize(("scores", "first", "status"), HONEST_TABLE)
def test_missing_data_is_named_never_guessed(
    scores: list[Score], first: datetime | None, status: Status
) -> None:
    summary = summarise("phq9", scores, first_infusion_at=first)
    assert summary.status is status
    assert summary.change_percent is None
    assert summary.response_on is None
    assert summary.plain_words


def test_gaps_of_months_are_summarised_on_the_scores_there_are() -> None:
    scores = [
        Score(FIRST_INFUSION - timedelta(days=1), 20),
        Score(FIRST_INFUSION + timedelta(days=200), 8),
    ]
    summary = summarise("phq9", scores, first_infusion_at=FIRST_INFUSION)
    assert summary.status is Status.RESPONSE
    assert summary.response_on == (FIRST_INFUSION + timedelta(days=200)).date()


def test_instruments_are_never_mixed() -> None:
    summaries = summarise_episode(
        {"phq9": course(20, 10), "gad7": course(14, 13)},
        first_infusion_at=FIRST_INFUSION,
    )
    assert [s.instrument_code for s in summaries] == ["gad7", "phq9"]
    assert summaries[0].status is Status.NO_RESPONSE
    assert summaries[1].status is Status.RESPONSE


def test_rules_refuse_impossible_settings() -> None:
    with pytest.raises(ValueError, match="partial"):
        OutcomeRules(partial_reduction_percent=60)
    with pytest.raises(ValueError, match="relapse"):
        OutcomeRules(relapse_consecutive=0)
