"""Booster suggestions from a patient's own trajectory: pure, cited, versioned rules.

Sources (docs/sources.md): maintenance is individualised (K7 [V]); a booster is best
given a little before the previous effect is expected to wear off (K3 [V]); clinics
commonly give single boosters when symptoms return, often every 4-6 weeks (K22 [P]);
among responders relapse came at a median of 18 days after an induction series
(K5 [V]). Every number below is a default the medical director may change; each
change is a new version of the rules, and a suggestion keeps the version it was
made under. The prescriber decides: nothing here orders anything.

The rules, each giving a dated basis when it fires:
- `rise_from_nadir`: the latest total is `rise_points` or more above the lowest
  total since the series ended.
- `rising_scores`: the last `consecutive_rises` scores each rose on the one before.
- `band_crossed`: the latest total reached `band_threshold` (PHQ-9 10, "moderate",
  M1) after the nadir was below it.
- `learned_interval`: once the patient has had `learn_after_boosters` boosters,
  the median number of days their earlier effects lasted, minus `lead_days`.
- `protocol_interval`: the booster protocol's longest interval, the outer bound.
A booster is never suggested before the protocol's shortest interval.

Pure module: standard library only. Dates are the clinic's calendar dates.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise
from statistics import median
from typing import Any


class Urgency(StrEnum):
    OVERDUE = "overdue"
    DUE_NOW = "due_now"
    DUE_SOON = "due_soon"
    NOT_DUE = "not_due"


URGENCY_LABELS = {
    Urgency.OVERDUE: "Overdue",
    Urgency.DUE_NOW: "Due now",
    Urgency.DUE_SOON: "Due soon",
    Urgency.NOT_DUE: "Not yet due",
}


@dataclass(frozen=True)
class BoosterRules:
    """One version of the clinic's booster rules (defaults: K3, K5, K22, M1)."""

    version: int = 1
    instrument_code: str = "phq9"
    rise_points: int = 5
    consecutive_rises: int = 2
    band_threshold: int | None = 10
    learn_after_boosters: int = 2
    lead_days: int = 3
    due_soon_days: int = 7
    overdue_after_days: int = 7

    def __post_init__(self) -> None:
        if self.rise_points < 1 or self.consecutive_rises < 1:
            raise ValueError("rise_points and consecutive_rises must be at least 1")
        if self.learn_after_boosters < 1:
            raise ValueError("learn_after_boosters must be at least 1")
        if min(self.lead_days, self.due_soon_days, self.overdue_after_days) < 0:
            raise ValueError("day counts must not be negative")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def urgency_on(
    due_on: date, today: date, *, due_soon_days: int, overdue_after_days: int
) -> Urgency:
    """A suggestion's urgency on `today`: overdue more than `overdue_after_days` after
    its due date, due from that date, due soon within `due_soon_days` before it."""
    days = (today - due_on).days
    if days > overdue_after_days:
        return Urgency.OVERDUE
    if days >= 0:
        return Urgency.DUE_NOW
    return Urgency.DUE_SOON if -days <= due_soon_days else Urgency.NOT_DUE


@dataclass(frozen=True)
class DatedScore:
    on: date
    total: int


@dataclass(frozen=True)
class Basis:
    rule: str
    on: date  # when this basis makes a booster due
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "on": self.on.isoformat(), "text": self.text}


@dataclass(frozen=True)
class Suggestion:
    urgency: Urgency
    due_on: date
    bases: tuple[Basis, ...]
    rules_version: int

    @property
    def label(self) -> str:
        return URGENCY_LABELS[self.urgency]


def _symptom_bases(
    scores: Sequence[DatedScore], rules: BoosterRules, code: str
) -> list[Basis]:
    if not scores:
        return []
    ordered = sorted(scores, key=lambda s: s.on)
    latest = ordered[-1]
    nadir = min(ordered, key=lambda s: (s.total, s.on))
    bases = []
    rise = latest.total - nadir.total
    if rise >= rules.rise_points:
        bases.append(
            Basis(
                "rise_from_nadir",
                latest.on,
                f"{code} {latest.total} on {latest.on:%Y-%m-%d} is {rise} points above "
                f"the lowest since the series, {nadir.total} on {nadir.on:%Y-%m-%d} "
                f"(rule: {rules.rise_points} or more).",
            )
        )
    tail = ordered[-(rules.consecutive_rises + 1) :]
    if len(tail) == rules.consecutive_rises + 1 and all(
        b.total > a.total for a, b in pairwise(tail)
    ):
        values = ", ".join(f"{s.total} ({s.on:%Y-%m-%d})" for s in tail)
        bases.append(
            Basis(
                "rising_scores",
                latest.on,
                f"{rules.consecutive_rises} rises in a row: {values}.",
            )
        )
    if (
        rules.band_threshold is not None
        and latest.total >= rules.band_threshold > nadir.total
    ):
        bases.append(
            Basis(
                "band_crossed",
                latest.on,
                f"{code} {latest.total} on {latest.on:%Y-%m-%d} reached "
                f"{rules.band_threshold} after a low of {nadir.total}.",
            )
        )
    return bases


def suggest(
    *,
    today: date,
    last_infusion_on: date,
    scores_since_series: Sequence[DatedScore],
    earlier_effect_days: Sequence[int],
    interval_days_min: int,
    interval_days_max: int,
    rules: BoosterRules | None = None,
) -> Suggestion:
    """When this patient's next booster looks due, and why.

    `scores_since_series`: the rule instrument's totals since the induction series
    ended. `earlier_effect_days`: days between each earlier booster and the one
    before it (how long each effect lasted, by the clinic's own record).
    """
    rules = rules or BoosterRules()
    if not 0 < interval_days_min <= interval_days_max:
        raise ValueError("need 0 < interval_days_min <= interval_days_max")
    bases = _symptom_bases(scores_since_series, rules, rules.instrument_code.upper())
    if len(earlier_effect_days) >= rules.learn_after_boosters:
        lasted = int(median(earlier_effect_days))
        on = last_infusion_on + timedelta(days=max(lasted - rules.lead_days, 0))
        bases.append(
            Basis(
                "learned_interval",
                on,
                f"Earlier boosters lasted a median of {lasted} days "
                f"({', '.join(map(str, earlier_effect_days))}); due {rules.lead_days} "
                "days before that.",
            )
        )
    outer = last_infusion_on + timedelta(days=interval_days_max)
    bases.append(
        Basis(
            "protocol_interval",
            outer,
            f"The booster protocol's longest interval is {interval_days_max} days "
            f"after the last infusion on {last_infusion_on:%Y-%m-%d}.",
        )
    )
    earliest = last_infusion_on + timedelta(days=interval_days_min)
    due_on = max(min(b.on for b in bases), earliest)
    if due_on == earliest and min(b.on for b in bases) < earliest:
        bases.append(
            Basis(
                "protocol_minimum",
                earliest,
                f"Not before {interval_days_min} days after the last infusion "
                "(the protocol's shortest interval).",
            )
        )
    if today > due_on + timedelta(days=rules.overdue_after_days):
        urgency = Urgency.OVERDUE
    elif today >= due_on:
        urgency = Urgency.DUE_NOW
    elif (due_on - today).days <= rules.due_soon_days:
        urgency = Urgency.DUE_SOON
    else:
        urgency = Urgency.NOT_DUE
    return Suggestion(
        urgency=urgency,
        due_on=due_on,
        bases=tuple(sorted(bases, key=lambda b: (b.on, b.rule))),
        rules_version=rules.version,
    )


def effect_durations(booster_dates: Sequence[date]) -> list[int]:
    """Days between consecutive boosters: how long each earlier effect lasted."""
    ordered = sorted(booster_dates)
    return [(b - a).days for a, b in pairwise(ordered)]
