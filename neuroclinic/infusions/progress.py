"""Treatment events for the questionnaire trajectories: each infusion given, by date."""

from neuroclinic.infusions.models import InfusionSession
from neuroclinic.measures.trajectory import TrajectoryEvent
from neuroclinic.patients.models import Patient


def trajectory_events(patient: Patient) -> list[TrajectoryEvent]:
    sessions = InfusionSession.objects.filter(
        patient=patient, started_at__isnull=False
    ).order_by("service_date", "id")
    return [
        TrajectoryEvent(on=s.service_date, label=f"Inf {s.sequence_number}")
        for s in sessions
    ]
