"""Reads for the medical director's dashboard: response and remission at checkpoints,
time from remission to relapse, time from the series to the first booster, booster
intervals. Definitions are `summary.py`'s; figures `stats.py`'s. A handful of bulk
queries, whatever the clinic's size (see benchmarks/outcomes.py).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from neuroclinic.outcomes.boosters import effect_durations
from neuroclinic.outcomes.episodes import Episode, load_episodes
from neuroclinic.outcomes.stats import Curve, Rate, kaplan_meier
from neuroclinic.outcomes.summary import EpisodeSummary, Status, summarise
from neuroclinic.treatment.models import TreatmentPlan

CHECKPOINT_WEEKS = (4, 8, 12, 26)
CHECKPOINT_WINDOW_DAYS = (
    14  # a checkpoint counts the last score in the 14 days before it
)
END_OF_SERIES_GRACE_DAYS = 7
INTERVAL_BANDS = (
    (0, 21, "under 3 weeks"),
    (21, 28, "3-4 weeks"),
    (28, 35, "4-5 weeks"),
    (35, 42, "5-6 weeks"),
    (42, 56, "6-8 weeks"),
    (56, 10**6, "8 weeks or more"),
)


@dataclass(frozen=True)
class Checkpoint:
    label: str
    response: Rate
    remission: Rate


@dataclass(frozen=True)
class Dashboard:
    instrument_code: str
    episodes: int
    judged: int
    checkpoints: tuple[Checkpoint, ...]
    relapse: Curve
    first_booster: Curve
    intervals: tuple[tuple[str, int], ...]


def _summary_until(
    episode: Episode, code: str, until: datetime, window_days: int
) -> EpisodeSummary | None:
    scores = [s for s in episode.scores.get(code, []) if s.taken_at <= until]
    if not scores or scores[-1].taken_at < until - timedelta(days=window_days):
        return None
    summary = summarise(code, scores, first_infusion_at=episode.first_infusion_at)
    if summary.status in (
        Status.NO_BASELINE,
        Status.ZERO_BASELINE,
        Status.NO_FOLLOW_UP,
    ):
        return None
    return summary


def _rates(label: str, summaries: list[EpisodeSummary]) -> Checkpoint:
    n = len(summaries)
    responded = sum(
        1 for s in summaries if s.status in (Status.RESPONSE, Status.REMISSION)
    )
    remitted = sum(1 for s in summaries if s.status is Status.REMISSION)
    return Checkpoint(label, Rate(label, responded, n), Rate(label, remitted, n))


def build(
    plans: list[TreatmentPlan], *, today: date, instrument_code: str = "phq9"
) -> Dashboard:
    episodes = [
        e
        for e in load_episodes(plans, instrument_codes=[instrument_code])
        if e.first_infusion_at
    ]
    checkpoints = []
    end_of_series = []
    for e in episodes:
        if e.plan.induction_completed_at:
            until = e.plan.induction_completed_at + timedelta(
                days=END_OF_SERIES_GRACE_DAYS
            )
            s = _summary_until(e, instrument_code, until, END_OF_SERIES_GRACE_DAYS + 3)
            if s:
                end_of_series.append(s)
    checkpoints.append(_rates("End of series", end_of_series))
    for weeks in CHECKPOINT_WEEKS:
        found = []
        for e in episodes:
            assert e.first_infusion_at is not None
            until = e.first_infusion_at + timedelta(weeks=weeks)
            s = _summary_until(e, instrument_code, until, CHECKPOINT_WINDOW_DAYS)
            if s:
                found.append(s)
        checkpoints.append(_rates(f"Week {weeks}", found))

    relapse_days: list[float] = []
    relapse_seen: list[bool] = []
    booster_days: list[float] = []
    booster_seen: list[bool] = []
    intervals: Counter[str] = Counter()
    judged = 0
    for e in episodes:
        s = e.summary(instrument_code)
        if s.baseline and s.latest:
            judged += 1
        if s.remission_on and s.latest:
            after = [d for d in s.relapses if d >= s.remission_on]
            end = after[0] if after else s.latest.taken_at.date()
            relapse_days.append(float((end - s.remission_on).days))
            relapse_seen.append(bool(after))
        if e.plan.induction_completed_at:
            series_end = e.plan.induction_completed_at.date()
            first = next((d for d in e.booster_dates if d >= series_end), None)
            stop = e.plan.ended_at.date() if e.plan.ended_at else today
            booster_days.append(float(((first or stop) - series_end).days))
            booster_seen.append(first is not None)
        for days in effect_durations(e.booster_dates):
            band = next(
                label for low, high, label in INTERVAL_BANDS if low <= days < high
            )
            intervals[band] += 1
    return Dashboard(
        instrument_code=instrument_code,
        episodes=len(episodes),
        judged=judged,
        checkpoints=tuple(checkpoints),
        relapse=kaplan_meier("Remission to relapse", relapse_days, relapse_seen),
        first_booster=kaplan_meier(
            "Series end to first booster", booster_days, booster_seen
        ),
        intervals=tuple((label, intervals[label]) for _, _, label in INTERVAL_BANDS),
    )
