"""Sections that later apps add to the chart (measures, treatment, infusions...).

The patients app cannot import them (imports run one way), so each app names
its panel function here. A panel gets the request and the patient and returns
a template with its context, plus any alerts for the red strip under the
chart header. Panels are clinical: they show only to roles with `view_chart`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from neuroclinic.http import AuthenticatedHttpRequest
    from neuroclinic.patients.models import Patient


@dataclass(frozen=True)
class ChartAlert:
    text: str
    link: str = ""


@dataclass(frozen=True)
class ChartPanel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    alerts: list[ChartAlert] = field(default_factory=list)


CHART_PANELS: list[str] = [
    "neuroclinic.measures.chart.panel",
    "neuroclinic.intake.chart.panel",
    "neuroclinic.infusions.chart.panel",
    "neuroclinic.tms.chart.panel",
    "neuroclinic.outcomes.chart.panel",
]


def chart_panels(
    request: "AuthenticatedHttpRequest", patient: "Patient"
) -> list[ChartPanel]:
    panels = []
    for path in CHART_PANELS:
        build: Callable[[AuthenticatedHttpRequest, Patient], ChartPanel | None] = (
            import_string(path)
        )
        panel = build(request, patient)
        if panel is not None:
            panels.append(panel)
    return panels
