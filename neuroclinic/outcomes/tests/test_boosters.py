"""Booster suggestion rules, table-driven (Source: K3, K5, K7, K22)."""

from datetime import date, timedelta
from typing import Any

import pytest

from neuroclinic.outcomes.boosters import (
    BoosterRules,
    DatedScore,
    Urgency,
    effect_durations,
    suggest,
)

LAST = date(2026, 5, 1)


def scores(*totals: int, every: int = 7) -> list[DatedScore]:
    return [
        DatedScore(LAST + timedelta(days=2 + every * i), t)
        for i, t in enumerate(totals)
    ]


# (name, totals, earlier effects, today offset, urgency, due offset, rules fired)
TABLE = [
    (
        "stable, far from the outer bound",
        (4, 4, 3),
        [],
        16,
        Urgency.NOT_DUE,
        42,
        {"protocol_interval"},
    ),
    (
        "rise of 5 from nadir",
        (3, 4, 8),
        [],
        16,
        Urgency.DUE_NOW,
        16,
        {"rise_from_nadir", "rising_scores", "protocol_interval"},
    ),
    (
        "two rises in a row, small",
        (3, 4, 6),
        [],
        16,
        Urgency.DUE_NOW,
        16,
        {"rising_scores", "protocol_interval"},
    ),
    (
        "band crossed",
        (6, 6, 10),
        [],
        16,
        Urgency.DUE_NOW,
        16,
        {"band_crossed", "protocol_interval"},
    ),
    (
        "outer bound soon",
        (4, 4, 4),
        [],
        38,
        Urgency.DUE_SOON,
        42,
        {"protocol_interval"},
    ),
    (
        "outer bound passed",
        (4, 4, 4),
        [],
        43,
        Urgency.DUE_NOW,
        42,
        {"protocol_interval"},
    ),
    (
        "overdue a week after",
        (4, 4, 4),
        [],
        50,
        Urgency.OVERDUE,
        42,
        {"protocol_interval"},
    ),
    (
        "learned from two boosters",
        (4, 4, 4),
        [30, 34],
        24,
        Urgency.DUE_SOON,
        29,
        {"learned_interval", "protocol_interval"},
    ),
    (
        "one booster is not enough to learn",
        (4, 4, 4),
        [30],
        20,
        Urgency.NOT_DUE,
        42,
        {"protocol_interval"},
    ),
]


@pytest.mark.parametrize(
    ("name", "totals", "earlier", "today", "urgency", "due", "fired"), TABLE
)
def test_suggestion_table(
    name: str,
    totals: tuple[int, ...],
    earlier: list[int],
    today: int,
    urgency: Urgency,
    due: int,
    fired: set[str],
) -> None:
    result = suggest(
        today=LAST + timedelta(days=today),
        last_infusion_on=LAST,
        scores_since_series=scores(*totals),
        earlier_effect_days=earlier,
        interval_days_min=14,
        interval_days_max=42,
    )
    assert result.urgency is urgency, name
    assert result.due_on == LAST + timedelta(days=due), name
    assert {b.rule for b in result.bases} == fired, name
    assert all(b.text for b in result.bases)


def test_never_before_the_protocol_minimum() -> None:
    result = suggest(
        today=LAST + timedelta(days=5),
        last_infusion_on=LAST,
        scores_since_series=[
            DatedScore(LAST + timedelta(days=2), 2),
            DatedScore(LAST + timedelta(days=4), 12),
        ],
        earlier_effect_days=[],
        interval_days_min=14,
        interval_days_max=42,
    )
    assert result.due_on == LAST + timedelta(days=14)
    assert "protocol_minimum" in {b.rule for b in result.bases}
    assert result.urgency is Urgency.NOT_DUE


def test_basis_names_values_and_dates() -> None:
    result = suggest(
        today=LAST + timedelta(days=16),
        last_infusion_on=LAST,
        scores_since_series=scores(3, 4, 8),
        earlier_effect_days=[],
        interval_days_min=14,
        interval_days_max=42,
    )
    rise = next(b for b in result.bases if b.rule == "rise_from_nadir")
    assert "PHQ9 8 on 2026-05-17" in rise.text
    assert "3 on 2026-05-03" in rise.text


def test_rules_are_versioned_and_configurable() -> None:
    rules = BoosterRules(
        version=3, rise_points=3, consecutive_rises=5, band_threshold=None
    )
    result = suggest(
        today=LAST + timedelta(days=16),
        last_infusion_on=LAST,
        scores_since_series=scores(3, 3, 6),
        earlier_effect_days=[],
        interval_days_min=14,
        interval_days_max=42,
        rules=rules,
    )
    assert result.rules_version == 3
    assert {b.rule for b in result.bases} == {"rise_from_nadir", "protocol_interval"}


def test_no_scores_falls_back_to_the_interval() -> None:
    result = suggest(
        today=LAST,
        last_infusion_on=LAST,
        scores_since_series=[],
        earlier_effect_days=[],
        interval_days_min=28,
        interval_days_max=42,
    )
    assert result.due_on == LAST + timedelta(days=42)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rise_points": 0}, "rise_points"),
        ({"learn_after_boosters": 0}, "learn"),
        ({"lead_days": -1}, "negative"),
    ],
)
def test_rules_refuse_impossible_values(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        BoosterRules(**kwargs)


def test_bad_protocol_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval_days_min"):
        suggest(
            today=LAST,
            last_infusion_on=LAST,
            scores_since_series=[],
            earlier_effect_days=[],
            interval_days_min=50,
            interval_days_max=42,
        )


def test_effect_durations() -> None:
    assert effect_durations(
        [date(2026, 3, 1), date(2026, 1, 1), date(2026, 1, 31)]
    ) == [30, 29]
