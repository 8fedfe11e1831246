"""The intake panel on the chart: packet progress, the eligibility decision, consent status."""

from django.urls import reverse

from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.intake.actions import packets
from neuroclinic.intake.checks import consent_states, latest_decision
from neuroclinic.intake.models import IntakePacket
from neuroclinic.patients.chart_panels import ChartAlert, ChartPanel
from neuroclinic.patients.models import Patient


def panel(request: AuthenticatedHttpRequest, patient: Patient) -> ChartPanel:
    packet_row = IntakePacket.objects.filter(patient=patient).first()
    statuses = packets.packet_status(packet_row) if packet_row else []
    states = consent_states(patient)
    alerts = [
        ChartAlert(
            text=f"New version of “{s.current.title}” to sign before the next treatment.",
            link=reverse("intake:patient", kwargs={"patient_uuid": patient.uuid}),
        )
        for s in states
        if s.current is not None and s.signed is not None and not s.is_current
    ]
    return ChartPanel(
        template="intake/chart_panel.html",
        context={
            "patient": patient,
            "packet": packet_row,
            "done": sum(1 for s in statuses if s.complete),
            "total": len(statuses),
            "decision": latest_decision(patient),
            "consents": [s for s in states if s.current is not None],
            "can_manage": request.user.can(Capability.MANAGE_INTAKE),
            "can_view_consents": request.user.can(Capability.VIEW_CONSENTS),
        },
        alerts=alerts,
    )
