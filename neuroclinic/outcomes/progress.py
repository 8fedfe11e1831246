"""Reads: a patient's own episode summaries for the portal's "Your progress", in plain words.

Computed from the chart when the patient opens the page (one patient: a few queries,
always current), never from the stored table, which may be ten minutes behind. Only
instruments with a remission threshold (the depression scales) are summarised: a
"response" on a dissociation or side-effect scale would mislead. The caller (the
portal) audits the read; nothing here takes a patient other than the one passed.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from neuroclinic.measures.instruments import INSTRUMENTS
from neuroclinic.outcomes.episodes import Episode, load_episodes
from neuroclinic.outcomes.summary import DEFAULT_REMISSION_MAX, EpisodeSummary, Status
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import TreatmentPlan


@dataclass(frozen=True)
class ProgressLine:
    instrument_name: str
    started_on: date  # the treatment plan's start
    words: str  # EpisodeSummary.plain_words
    baseline_total: int | None
    latest_total: int | None
    latest_on: date | None
    change_percent: Decimal | None
    judged: bool  # False: no baseline, a baseline of 0, or nothing after it yet


@dataclass(frozen=True)
class PatientSummary:
    episode: Episode
    instrument_code: str
    instrument_name: str
    summary: EpisodeSummary


def patient_summaries(patient: Patient) -> list[PatientSummary]:
    """The patient's episodes, newest first, one summary per depression scale answered,
    judged by the clinic's outcome rules (the chart panel and "Your progress" read these)."""
    plans = TreatmentPlan.objects.filter(
        patient=patient, organization_id=patient.organization_id
    ).order_by("-created_at", "-id")
    found = []
    for episode in load_episodes(plans, instrument_codes=sorted(DEFAULT_REMISSION_MAX)):
        for code in sorted(episode.scores):
            instrument = INSTRUMENTS.get(code)
            found.append(
                PatientSummary(
                    episode=episode,
                    instrument_code=code,
                    instrument_name=instrument.name if instrument else code,
                    summary=episode.summary(code),
                )
            )
    return found


def progress_for(patient: Patient) -> list[ProgressLine]:
    """The patient's episodes, newest first, one line per depression scale they answered."""
    lines = []
    for found in patient_summaries(patient):
        s = found.summary
        episode = found.episode
        lines.append(
            ProgressLine(
                instrument_name=found.instrument_name,
                started_on=(
                    episode.first_infusion_at or episode.plan.created_at
                ).date(),
                words=s.plain_words,
                baseline_total=s.baseline.total if s.baseline else None,
                latest_total=s.latest.total if s.latest else None,
                latest_on=s.latest.taken_at.date() if s.latest else None,
                change_percent=s.change_percent,
                judged=s.status
                not in (Status.NO_BASELINE, Status.ZERO_BASELINE, Status.NO_FOLLOW_UP),
            )
        )
    return lines
