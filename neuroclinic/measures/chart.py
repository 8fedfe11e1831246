"""The measures panel on the chart: latest scores, open safety alerts, what is due."""

from django.urls import reverse

from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.measures.models import DueMeasure, QuestionnaireResponse, SafetyAlert
from neuroclinic.patients.chart_panels import ChartAlert, ChartPanel
from neuroclinic.patients.models import Patient


def latest_by_instrument(patient: Patient) -> list[QuestionnaireResponse]:
    """The newest current response for each instrument the patient has answered."""
    latest: dict[str, QuestionnaireResponse] = {}
    responses = QuestionnaireResponse.objects.filter(
        patient=patient, amended_by__isnull=True
    ).order_by("-completed_at", "-id")
    for response in responses[:200]:
        latest.setdefault(response.instrument_code, response)
    return sorted(latest.values(), key=lambda r: r.instrument_code)


def panel(request: AuthenticatedHttpRequest, patient: Patient) -> ChartPanel:
    open_alerts = list(
        SafetyAlert.objects.filter(patient=patient, acknowledged_at__isnull=True)
    )
    alerts = [
        ChartAlert(
            text=f"Safety alert: {a.get_reason_display()} — no treatment until a prescriber documents a risk assessment.",
            link=reverse("measures:alert", kwargs={"alert_uuid": a.uuid}),
        )
        for a in open_alerts
    ]
    due = list(
        DueMeasure.objects.filter(
            patient=patient, status=DueMeasure.Status.DUE
        ).order_by("due_at")[:10]
    )
    return ChartPanel(
        template="measures/chart_panel.html",
        context={
            "patient": patient,
            "latest": latest_by_instrument(patient),
            "due": due,
            "open_alerts": open_alerts,
            "can_record": request.user.can(Capability.RECORD_MEASURES),
            "can_send": request.user.can(Capability.SEND_QUESTIONNAIRES),
            "can_flag": request.user.can(Capability.FLAG_SAFETY_CONCERN),
        },
        alerts=alerts,
    )
