"""Episode summary: one instrument's course over one treatment episode, in clinical terms.

Source: K5, K21, K24, M7, M9, M17, T4 (docs/sources.md); prose in docs/outcomes.md.
- Baseline: the clinic's rule, the last score taken before the episode's first
  infusion. Without one, response cannot be judged and we say so.
- Response: a total at least 50% below baseline (K5, K24, K21; NQF 1885, M17).
  Partial response: 25-49% below baseline (a common convention, [U]).
- Remission: PHQ-9 < 5 (M17), QIDS-SR16 <= 5 (M7), MADRS <= 10 (M8, T4, K21),
  HAM-D17 <= 7 (M9); thresholds are clinic settings (`OutcomeRules`, defined in
  the pure `measures.outcomes` so the apps below this one judge by the same rules).
- Relapse: studies differ (K5: median 18 days to relapse among responders; K21
  exact criteria [U]). Default rule: after response or remission, the loss of
  response on `relapse_consecutive` (2) consecutive scores; the relapse date is
  the first of those scores. A clinic setting.

One instrument per call: a percent change never mixes instruments. Totals are
ints; percent change is a Decimal rounded half-up to 0.1 for display, while the
response decision uses exact integer arithmetic (`measures.outcomes`).
`plain_words` says a status to the patient with the clinic's own percentages.

Pure module: standard library and the pure `measures.outcomes` only.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from neuroclinic.measures.outcomes import (
    HAMD17_REMISSION_MAX,
    PARTIAL_REDUCTION_PERCENT,
    RELAPSE_CONSECUTIVE_SCORES,
    REMISSION_MAX_TOTAL,
    OutcomeRules,
    response_change,
)

__all__ = [
    "DEFAULT_REMISSION_MAX",
    "HAMD17_REMISSION_MAX",
    "PARTIAL_REDUCTION_PERCENT",
    "PLAIN_WORDS",
    "RELAPSE_CONSECUTIVE_SCORES",
    "EpisodeSummary",
    "OutcomeRules",
    "Score",
    "Status",
    "choose_baseline",
    "plain_words",
    "summarise",
    "summarise_episode",
]

# Defaults the medical director may change per instrument (codes as in measures).
DEFAULT_REMISSION_MAX: Mapping[str, int] = REMISSION_MAX_TOTAL


class Status(StrEnum):
    NO_BASELINE = "no_baseline"
    ZERO_BASELINE = "zero_baseline"
    NO_FOLLOW_UP = "no_follow_up"
    NO_RESPONSE = "no_response"
    PARTIAL = "partial_response"
    RESPONSE = "response"
    REMISSION = "remission"
    RELAPSE = "relapse"


# The patient's words for a status. {partial} and {response} are the clinic's
# percentages in words (`share_words`): "a quarter", "half", or "40 %".
_WORDS = {
    Status.NO_BASELINE: "No score before the first infusion: response cannot be judged.",
    Status.ZERO_BASELINE: "The score before treatment was 0: a change cannot be measured.",
    Status.NO_FOLLOW_UP: "Only the score before treatment so far: too early to compare.",
    Status.NO_RESPONSE: "Your scores have not yet fallen by {partial} from where you started.",
    Status.PARTIAL: "Your score has fallen by {partial} to {response_upper} from where you started.",
    Status.RESPONSE: "Your score has fallen by {response} or more from where you started.",
    Status.REMISSION: "Your score is in the range where symptoms are minimal.",
    Status.RELAPSE: "Your score has risen back after an improvement; your clinician will review it.",
}

# Shares a patient reads more easily as words than as a percentage.
_SHARE_WORDS = {25: "a quarter", 50: "half", 75: "three quarters"}


def share_words(percent: int, *, article: bool = False) -> str:
    """A percentage as a patient reads it: 25 -> "a quarter", 50 -> "half" ("a half"
    with `article`), 75 -> "three quarters", any other -> "40 %"."""
    words = _SHARE_WORDS.get(percent)
    if words is None:
        return f"{percent} %"
    return f"a {words}" if article and words == "half" else words


def plain_words(status: Status, rules: OutcomeRules | None = None) -> str:
    """The status in words a patient can read, naming the clinic's own percentages."""
    rules = rules or OutcomeRules()
    return _WORDS[status].format(
        partial=share_words(rules.partial_reduction_percent),
        response=share_words(rules.response_reduction_percent),
        response_upper=share_words(rules.response_reduction_percent, article=True),
    )


# The words under the default rules (the cited values).
PLAIN_WORDS: Mapping[Status, str] = MappingProxyType(
    {status: plain_words(status) for status in Status}
)


@dataclass(frozen=True)
class Score:
    taken_at: datetime
    total: int


@dataclass(frozen=True)
class EpisodeSummary:
    instrument_code: str
    status: Status
    baseline: Score | None
    nadir: Score | None  # the lowest (best) total after baseline, earliest if tied
    latest: Score | None
    change_percent: Decimal | None  # latest against baseline, negative = better
    nadir_change_percent: Decimal | None
    response_on: date | None  # first response
    remission_on: date | None  # first remission
    relapse_on: date | None  # first relapse (onset) after response or remission
    relapses: tuple[date, ...] = ()
    follow_up_count: int = 0
    remission_defined: bool = True
    rules: OutcomeRules = field(default_factory=OutcomeRules, compare=False)

    @property
    def plain_words(self) -> str:
        """The status in the patient's words, with the percentages it was judged by."""
        return plain_words(self.status, self.rules)

    @property
    def ever_responded(self) -> bool:
        return self.response_on is not None

    @property
    def ever_remitted(self) -> bool:
        return self.remission_on is not None


def choose_baseline(
    scores: Sequence[Score], first_infusion_at: datetime | None
) -> Score | None:
    """The last score taken before the first infusion (None without an infusion or score)."""
    if first_infusion_at is None:
        return None
    before = [s for s in scores if s.taken_at < first_infusion_at]
    return max(before, key=lambda s: s.taken_at) if before else None


def _reduction_at_least(baseline: int, total: int, percent: int) -> bool:
    return (baseline - total) * 100 >= percent * baseline


def summarise(
    instrument_code: str,
    scores: Sequence[Score],
    *,
    first_infusion_at: datetime | None,
    rules: OutcomeRules | None = None,
) -> EpisodeSummary:
    """Summarise one instrument's scores over one episode (scores in any order)."""
    rules = rules or OutcomeRules()
    ordered = sorted(scores, key=lambda s: s.taken_at)
    baseline = choose_baseline(ordered, first_infusion_at)
    remission_max = rules.remission_max.get(instrument_code)
    empty = {
        "instrument_code": instrument_code,
        "baseline": baseline,
        "nadir": None,
        "latest": None,
        "change_percent": None,
        "nadir_change_percent": None,
        "response_on": None,
        "remission_on": None,
        "relapse_on": None,
        "remission_defined": remission_max is not None,
        "rules": rules,
    }
    if baseline is None:
        return EpisodeSummary(status=Status.NO_BASELINE, **empty)  # type: ignore[arg-type]
    after = [s for s in ordered if s.taken_at > baseline.taken_at]
    if first_infusion_at is not None:
        after = [s for s in after if s.taken_at >= first_infusion_at]
    latest = after[-1] if after else None
    if baseline.total == 0:
        return EpisodeSummary(
            status=Status.ZERO_BASELINE,
            follow_up_count=len(after),
            **{**empty, "latest": latest},  # type: ignore[arg-type]
        )
    if latest is None:
        return EpisodeSummary(status=Status.NO_FOLLOW_UP, **empty)  # type: ignore[arg-type]

    nadir = min(after, key=lambda s: (s.total, s.taken_at))
    response_on: date | None = None
    remission_on: date | None = None
    relapses: list[date] = []
    improved = False  # response or remission reached since the last relapse
    run: list[Score] = []
    for score in after:
        responds = rules.responds(
            baseline_total=baseline.total, current_total=score.total
        )
        remits = remission_max is not None and score.total <= remission_max
        if responds and response_on is None:
            response_on = score.taken_at.date()
        if remits and remission_on is None:
            remission_on = score.taken_at.date()
        if responds or remits:
            improved = True
            run = []
        elif improved:
            run.append(score)
            if len(run) >= rules.relapse_consecutive:
                relapses.append(run[0].taken_at.date())
                improved = False
                run = []

    last_responds = rules.responds(
        baseline_total=baseline.total, current_total=latest.total
    )
    if remission_max is not None and latest.total <= remission_max:
        status = Status.REMISSION
    elif last_responds:
        status = Status.RESPONSE
    elif relapses and not improved:
        status = Status.RELAPSE
    elif _reduction_at_least(
        baseline.total, latest.total, rules.partial_reduction_percent
    ):
        status = Status.PARTIAL
    else:
        status = Status.NO_RESPONSE
    return EpisodeSummary(
        instrument_code=instrument_code,
        status=status,
        baseline=baseline,
        nadir=nadir,
        latest=latest,
        change_percent=response_change(
            baseline_total=baseline.total, current_total=latest.total
        ),
        nadir_change_percent=response_change(
            baseline_total=baseline.total, current_total=nadir.total
        ),
        response_on=response_on,
        remission_on=remission_on,
        relapse_on=relapses[0] if relapses else None,
        relapses=tuple(relapses),
        follow_up_count=len(after),
        remission_defined=remission_max is not None,
        rules=rules,
    )


def summarise_episode(
    scores_by_instrument: Mapping[str, Sequence[Score]],
    *,
    first_infusion_at: datetime | None,
    rules: OutcomeRules | None = None,
) -> list[EpisodeSummary]:
    """One summary per instrument, instruments in code order; never mixed."""
    return [
        summarise(code, scores, first_infusion_at=first_infusion_at, rules=rules)
        for code, scores in sorted(scores_by_instrument.items())
    ]
