"""End-of-course summary (pure): sessions given and missed, pulses, side effects, and the PHQ-9
from baseline to the end with response and remission by the clinic's outcome definitions
(`rules`, a `measures.outcomes.OutcomeRules`; the caller reads them with
`measures.outcome_rules.clinic_outcome_rules`). Their defaults are the cited ones (Source: M3, M4
(docs/sources.md): response is a fall of at least 50 % from baseline, remission a PHQ-9 of 4 or less).

Baseline is the last PHQ-9 on or before the course's first day, no older than BASELINE_DAYS
(a clinic may change it); without one, the first PHQ-9 of the course. The end is the last PHQ-9
from the course's first day to END_GRACE_DAYS after its last session. "Missed" counts the missed
days recorded (`recorded_missed`; the plan passed in already leaves them out) and planned days
already past (before `today`) by which fewer sessions were given than planned.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from neuroclinic.measures.outcomes import OutcomeRules, response_change

BASELINE_DAYS = 30
END_GRACE_DAYS = 7


@dataclass(frozen=True)
class GivenSession:
    on: date
    pulses_delivered: int
    completed: bool  # False: ended early or stopped
    side_effects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Score:
    on: date
    total: int


@dataclass(frozen=True)
class CourseSummary:
    planned: int
    given: int
    ended_early: int
    missed: int
    pulses: int
    side_effects: dict[str, int] = field(default_factory=dict)
    baseline: Score | None = None
    end: Score | None = None
    change_percent: Decimal | None = None
    response: bool | None = None
    remission: bool | None = None


def summarize(
    *,
    planned_days: Sequence[date],
    sessions: Sequence[GivenSession],
    phq9: Sequence[Score],
    today: date,
    recorded_missed: int = 0,
    baseline_days: int = BASELINE_DAYS,
    end_grace_days: int = END_GRACE_DAYS,
    rules: OutcomeRules | None = None,
) -> CourseSummary:
    """The course so far; response and remission by `rules` (default: the cited values)."""
    rules = rules or OutcomeRules()
    if not planned_days:
        raise ValueError("A course has at least one planned session.")
    start = min(planned_days)
    due_by_today = sum(1 for d in planned_days if d < today)
    given = len(sessions)
    effects = Counter(e for s in sessions for e in s.side_effects)
    scores = sorted(phq9, key=lambda s: s.on)
    before = [
        s for s in scores if start - timedelta(days=baseline_days) <= s.on <= start
    ]
    last_day = max([*planned_days, *(s.on for s in sessions)])
    during = [
        s for s in scores if start <= s.on <= last_day + timedelta(days=end_grace_days)
    ]
    baseline = before[-1] if before else (during[0] if during else None)
    end = next((s for s in reversed(during) if s is not baseline), None)
    if baseline is not None and end is not None and end.on < baseline.on:
        end = None
    change = response = remission = None
    if baseline is not None and end is not None:
        remission = rules.remits("phq9", end.total)
        if baseline.total > 0:
            change = response_change(
                baseline_total=baseline.total, current_total=end.total
            )
            response = rules.responds(
                baseline_total=baseline.total, current_total=end.total
            )
    return CourseSummary(
        planned=len(planned_days),
        given=given,
        ended_early=sum(1 for s in sessions if not s.completed),
        missed=recorded_missed + max(0, due_by_today - given),
        pulses=sum(s.pulses_delivered for s in sessions),
        side_effects=dict(sorted(effects.items())),
        baseline=baseline,
        end=end,
        change_percent=change,
        response=response,
        remission=remission,
    )
