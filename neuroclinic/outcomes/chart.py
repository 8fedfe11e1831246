"""The outcomes panel on the chart: each treatment episode read from its scores, in clinical terms.

The same summary (`summary.summarise`) the portal's "Your progress" shows in plain words,
here with the figures a prescriber reads: baseline, nadir, latest, % change, the dates of
the first response, remission and relapse, and the days since the last infusion given.
Computed when the chart opens (one patient, a few queries), never from the stored table,
which may be ten minutes behind. Only the depression scales with a remission threshold
are summarised; a dissociation or side-effect scale has no "response". The chart view
audits the read.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Max
from django.utils import timezone

from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.outcomes.episodes import GIVEN_STATUSES
from neuroclinic.outcomes.progress import patient_summaries
from neuroclinic.outcomes.summary import (
    EpisodeSummary,
    OutcomeRules,
    Status,
)
from neuroclinic.patients.chart_panels import ChartPanel
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import TreatmentPlan

STATUS_LABELS = {
    Status.NO_BASELINE: "no baseline: response cannot be judged",
    Status.ZERO_BASELINE: "baseline 0: change cannot be measured",
    Status.NO_FOLLOW_UP: "baseline only: nothing to compare yet",
    Status.NO_RESPONSE: "no response (< {partial} % below baseline)",
    Status.PARTIAL: "partial response ({partial}-{below_response} % below baseline)",
    Status.RESPONSE: "response (>= {response} % below baseline)",
    Status.REMISSION: "remission (total {remission_max} or less)",
    Status.RELAPSE: "relapse after response or remission",
}


def status_label(status: Status, code: str, rules: OutcomeRules) -> str:
    """The status with the clinic's own thresholds, as the summary judged it."""
    return STATUS_LABELS[status].format(
        partial=rules.partial_reduction_percent,
        below_response=rules.response_reduction_percent - 1,
        response=rules.response_reduction_percent,
        remission_max=rules.remission_max.get(code, "?"),
    )


@dataclass(frozen=True)
class OutcomeRow:
    plan: TreatmentPlan
    instrument_name: str
    summary: EpisodeSummary
    status_label: str


def _days_since(moment: datetime | None, today: date) -> int | None:
    return None if moment is None else (today - timezone.localtime(moment).date()).days


def panel(request: AuthenticatedHttpRequest, patient: Patient) -> ChartPanel | None:
    """Shown to roles with `view_chart` (the chart builds panels for no one else)."""
    rows = [
        OutcomeRow(
            plan=found.episode.plan,
            instrument_name=found.instrument_name,
            summary=found.summary,
            status_label=status_label(
                found.summary.status, found.instrument_code, found.episode.rules
            ),
        )
        for found in patient_summaries(patient)
    ]
    last_given = InfusionSession.objects.filter(
        patient=patient, status__in=GIVEN_STATUSES, started_at__isnull=False
    ).aggregate(last=Max("started_at"))["last"]
    if not rows and last_given is None:
        return None
    return ChartPanel(
        template="outcomes/chart_panel.html",
        context={
            "rows": rows,
            "last_given": last_given,
            "days_since_last": _days_since(last_given, timezone.localdate()),
        },
    )
