"""Reads: each treatment plan (an episode) with its scores and first infusion, summarised.

An episode is one treatment plan. Its scores are the patient's current (not amended)
questionnaire totals from `BASELINE_LOOKBACK_DAYS` before the plan was made (or its
first infusion, if earlier, as in imported history) until the plan ended; the baseline is chosen from them by `summary.choose_baseline`. Reads are
done in a few bulk queries, whatever the number of plans.

Each episode carries its clinic's outcome definitions in force when it was loaded
(`outcome_rules_for`: the newest rule version the medical director saved, or the
built-in defaults), so every summary of it (stored rows, dashboard, chart, portal,
export) judges response, remission and relapse by the clinic's settings.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Min

from neuroclinic.infusions.models import InfusionSession
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.outcomes.models import BoosterRuleSet
from neuroclinic.outcomes.summary import EpisodeSummary, OutcomeRules, Score, summarise
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

BASELINE_LOOKBACK_DAYS = 60


@dataclass(frozen=True)
class Episode:
    plan: TreatmentPlan
    first_infusion_at: datetime | None
    scores: dict[str, list[Score]]
    booster_dates: list[date]
    rules: OutcomeRules = field(default_factory=OutcomeRules)

    def summary(self, code: str, rules: OutcomeRules | None = None) -> EpisodeSummary:
        return summarise(
            code,
            self.scores.get(code, []),
            first_infusion_at=self.first_infusion_at,
            rules=rules or self.rules,
        )

    def summaries(self, rules: OutcomeRules | None = None) -> list[EpisodeSummary]:
        return [self.summary(code, rules) for code in sorted(self.scores)]


GIVEN_STATUSES = (
    InfusionSession.Status.RECOVERY,
    InfusionSession.Status.DISCHARGED,
    InfusionSession.Status.CLOSED,
)


def outcome_rules_for(
    organization_id: int, *, as_of: datetime | None = None
) -> OutcomeRules:
    """The clinic's outcome definitions: its newest rule version (saved by `as_of`, if
    given), or the defaults. Apps below this one read it through
    `measures.outcome_rules.clinic_outcome_rules`."""
    versions = BoosterRuleSet.objects.filter(organization_id=organization_id)
    if as_of is not None:
        versions = versions.filter(created_at__lte=as_of)
    latest = versions.order_by("-version").first()
    return latest.outcome_rules() if latest else OutcomeRules()


def load_episodes(
    plans: Iterable[TreatmentPlan], *, instrument_codes: Sequence[str] | None = None
) -> list[Episode]:
    """Episodes for `plans` in three queries (plans, infusions, responses)."""
    plans = list(plans)
    if not plans:
        return []
    plan_ids = [p.pk for p in plans]
    first_at = dict(
        InfusionSession.objects.filter(plan_id__in=plan_ids, started_at__isnull=False)
        .values("plan_id")
        .annotate(first=Min("started_at"))
        .values_list("plan_id", "first")
    )
    boosters: dict[int, list[date]] = defaultdict(list)
    for plan_id, on in (
        InfusionSession.objects.filter(
            plan_id__in=plan_ids,
            order__kind=InfusionOrder.Kind.BOOSTER,
            status__in=GIVEN_STATUSES,
        )
        .order_by("service_date")
        .values_list("plan_id", "service_date")
    ):
        boosters[plan_id].append(on)
    responses = QuestionnaireResponse.objects.filter(
        patient_id__in={p.patient_id for p in plans},
        amended_by__isnull=True,
        total__isnull=False,
    )
    if instrument_codes is not None:
        responses = responses.filter(instrument_code__in=instrument_codes)
    by_patient: dict[int, list[tuple[str, datetime, int]]] = defaultdict(list)
    for patient_id, code, taken_at, total in responses.order_by().values_list(
        "patient_id", "instrument_code", "completed_at", "total"
    ):
        if total is not None:
            by_patient[patient_id].append((code, taken_at, total))
    rules = {org: outcome_rules_for(org) for org in {p.organization_id for p in plans}}
    episodes = []
    for plan in plans:
        first = first_at.get(plan.pk)
        start = min(first or plan.created_at, plan.created_at) - timedelta(
            days=BASELINE_LOOKBACK_DAYS
        )
        scores: dict[str, list[Score]] = defaultdict(list)
        for code, taken_at, total in by_patient.get(plan.patient_id, []):
            if taken_at < start or (plan.ended_at and taken_at > plan.ended_at):
                continue
            scores[code].append(Score(taken_at, total))
        episodes.append(
            Episode(
                plan=plan,
                first_infusion_at=first,
                scores={
                    c: sorted(s, key=lambda x: x.taken_at) for c, s in scores.items()
                },
                booster_dates=boosters.get(plan.pk, []),
                rules=rules[plan.organization_id],
            )
        )
    return episodes
