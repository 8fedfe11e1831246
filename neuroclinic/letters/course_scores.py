"""A TMS course's scores, one instrument at a time, for the course summary letter.

Every instrument the course recorded gets its own row: its baseline (the last
score at or before the first session, else the course's first score), its latest
score, the percent change between those two totals of the same instrument, and
response and remission by the clinic's outcome definitions where they define them
for that instrument (`measures.outcomes.OutcomeRules`, defaults cited: K5, K21, K24,
M7, M9, M17). Instruments are never mixed in a
percent change: each row's change is computed from that instrument's totals only.

A side-effect scale (CADSS-6) shows its scores with no change, response or
remission (a change in it means nothing clinical). Response and remission are
given only for the instruments with a remission threshold (by default
`outcomes.REMISSION_MAX_TOTAL`: PHQ-9, QIDS-SR16, MADRS, HAM-D17); for the others
(GAD-7, PCL-5...) the letter reports the totals and the change only.

Pure module: standard library and the pure `measures.outcomes` rules.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from neuroclinic.measures import outcomes


@dataclass(frozen=True)
class Score:
    instrument: str
    taken_at: datetime
    total: int


@dataclass(frozen=True)
class InstrumentRow:
    instrument: str
    name: str
    baseline: int
    baseline_at: datetime
    latest: int | None
    latest_at: datetime | None
    scores: int
    change_percent: Decimal | None
    response: bool | None
    remission: bool | None


def summarise(
    scores: Iterable[Score],
    *,
    course_start: datetime,
    names: Mapping[str, str],
    side_effect_scales: frozenset[str] = frozenset(),
    rules: outcomes.OutcomeRules | None = None,
) -> list[InstrumentRow]:
    """One row per instrument, in the order of `names` (then by code), judged by the
    clinic's `rules` (default: the cited definitions)."""
    rules = rules or outcomes.OutcomeRules()
    by_instrument: dict[str, list[Score]] = {}
    for score in sorted(scores, key=lambda s: (s.taken_at, s.instrument)):
        by_instrument.setdefault(score.instrument, []).append(score)
    order = list(names)
    rows = []
    for code in sorted(
        by_instrument,
        key=lambda c: (order.index(c) if c in order else len(order), c),
    ):
        series = by_instrument[code]
        before = [s for s in series if s.taken_at <= course_start]
        baseline = before[-1] if before else series[0]
        after = [s for s in series if s.taken_at > baseline.taken_at]
        latest = after[-1] if after else None
        change: Decimal | None = None
        response: bool | None = None
        remission: bool | None = None
        if latest is not None and code not in side_effect_scales:
            if baseline.total > 0:
                change = outcomes.response_change(
                    baseline_total=baseline.total, current_total=latest.total
                )
                if rules.remission_max_for(code) is not None:
                    response = rules.responds(
                        baseline_total=baseline.total, current_total=latest.total
                    )
            remission = rules.remits(code, latest.total)
        rows.append(
            InstrumentRow(
                instrument=code,
                name=names.get(code, code),
                baseline=baseline.total,
                baseline_at=baseline.taken_at,
                latest=latest.total if latest else None,
                latest_at=latest.taken_at if latest else None,
                scores=len(series) - series.index(baseline),
                change_percent=change,
                response=response,
                remission=remission,
            )
        )
    return rows


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "not defined"
    return "yes" if value else "no"


def markdown_table(rows: list[InstrumentRow]) -> str:
    """The rows as a Markdown table for the letter ("" when the course recorded none)."""
    if not rows:
        return ""
    lines = [
        "| Measure | Before the course | Latest | Change | Response | Remission |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row.latest is None:
            lines.append(f"| {row.name} | {row.baseline} | no later score | | | |")
            continue
        change = "" if row.change_percent is None else f"{row.change_percent}%"
        lines.append(
            f"| {row.name} | {row.baseline} | {row.latest} | {change or 'not computed'} | "
            f"{_yes_no(row.response)} | {_yes_no(row.remission)} |"
        )
    return "\n".join(lines)
