"""A patient's questionnaire trajectories, for the staff page and the patient portal.

Response, remission and the chart's reference lines follow the clinic's outcome
definitions (`measures.outcome_rules`), as the outcomes app's summaries do.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.utils.html import format_html_join
from django.utils.module_loading import import_string

from neuroclinic.measures.instruments import INSTRUMENTS, Instrument
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.outcome_rules import clinic_outcome_rules
from neuroclinic.measures.outcomes import OutcomeRules, response_change
from neuroclinic.measures.trajectory import (
    TrajectoryEvent,
    TrajectoryPoint,
    trajectory_rows,
    trajectory_svg,
)
from neuroclinic.patients.models import Patient


def trajectory_summary(
    instrument: Instrument,
    responses: list[QuestionnaireResponse],
    events: Sequence[TrajectoryEvent] = (),
    rules: OutcomeRules | None = None,
) -> dict[str, Any]:
    """One instrument's trajectory for a page: chart, table rows, change, response, remission.

    Judged by `rules`; without them, by the rules in force now at the responses' clinic.
    """
    if rules is None:
        rules = (
            clinic_outcome_rules(responses[0].organization_id)
            if responses
            else OutcomeRules()
        )
    points = [
        TrajectoryPoint(taken_on=r.completed_at.date(), total=r.total)
        for r in responses
        if r.total is not None
    ]
    # A side-effect scale (CADSS-6) has no "response": no baseline to fall from.
    baseline = points[0].total if points and not instrument.side_effect_scale else None
    latest = points[-1].total if points else None
    summary: dict[str, Any] = {
        "instrument": instrument,
        "count": len(responses),
        "latest": responses[-1] if responses else None,
    }
    if baseline is not None and latest is not None and len(points) > 1 and baseline > 0:
        summary["change_percent"] = response_change(
            baseline_total=baseline, current_total=latest
        )
        summary["response"] = rules.responds(
            baseline_total=baseline, current_total=latest
        )
    remission_max = rules.remission_max_for(instrument.code)
    if latest is not None and remission_max is not None:
        summary["remission"] = rules.remits(instrument.code, latest)
    if instrument.total_range is not None and points:
        summary["svg"] = trajectory_svg(
            title=f"{instrument.name} over time",
            points=points,
            bands=instrument.bands,
            y_max=instrument.total_range[1],
            baseline=baseline,
            response_line=not instrument.side_effect_scale,
            response_reduction_percent=rules.response_reduction_percent,
            remission_max=remission_max,
            events=events,
        )
        # Built here rather than in the template: a patient may have hundreds of
        # rows, and the template engine renders each cell at ~30x the cost.
        summary["rows_html"] = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row.taken_on.isoformat(),
                    row.total,
                    _percent(row.change_percent),
                    row.band_label,
                )
                for row in trajectory_rows(points, baseline, bands=instrument.bands)
            ),
        )
    return summary


def _percent(value: object) -> str:
    return "—" if value is None else f"{value}%"


# Apps that mark treatment events on the charts (measures cannot import them:
# imports run one way). Each is a function taking the patient.
TRAJECTORY_EVENT_SOURCES: list[str] = [
    "neuroclinic.infusions.progress.trajectory_events",
    "neuroclinic.tms.progress.trajectory_events",
]


def treatment_events(patient: Patient) -> list[TrajectoryEvent]:
    events: list[TrajectoryEvent] = []
    for path in TRAJECTORY_EVENT_SOURCES:
        source: Callable[[Patient], list[TrajectoryEvent]] = import_string(path)
        events.extend(source(patient))
    return events


def trajectories_for(patient: Patient) -> list[dict[str, Any]]:
    """Every summed instrument the patient has answered, current versions only."""
    responses = QuestionnaireResponse.objects.filter(
        patient=patient, amended_by__isnull=True
    ).order_by("completed_at", "id")
    by_code: dict[str, list[QuestionnaireResponse]] = {}
    for response in responses:
        by_code.setdefault(response.instrument_code, []).append(response)
    events = treatment_events(patient)
    rules = clinic_outcome_rules(patient.organization_id)
    return [
        trajectory_summary(INSTRUMENTS[code], items, events, rules)
        for code, items in sorted(by_code.items())
    ]
