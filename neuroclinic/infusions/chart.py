"""The ketamine treatment panel on the chart: plan, phase and progress, the order, infusions."""

from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions.forms import CheckInForm
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.chart_panels import ChartAlert, ChartPanel
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.actions.orders import active_order
from neuroclinic.treatment.actions.plans import active_plan, intake_blocks, plan_status
from neuroclinic.treatment.models import InfusionOrder


def panel(request: AuthenticatedHttpRequest, patient: Patient) -> ChartPanel | None:
    user = request.user
    if not user.can(Capability.VIEW_INFUSIONS):
        return None
    plan = active_plan(patient)
    order: InfusionOrder | None = active_order(plan) if plan else None
    open_session = (
        InfusionSession.objects.filter(
            patient=patient, status__in=InfusionSession.OPEN_STATUSES
        )
        .select_related("room")
        .first()
    )
    recent = list(
        InfusionSession.objects.filter(patient=patient)
        .select_related("room", "order")
        .order_by("-checked_in_at")[:6]
    )
    alerts = []
    if (
        open_session is not None
        and open_session.alarms.filter(acknowledged_at__isnull=True).exists()
    ):
        alerts.append(
            ChartAlert(
                text=f"Infusion alarm in {open_session.room.name}: needs acknowledgment.",
                link=f"/infusions/sessions/{open_session.uuid}/",
            )
        )
    can_check_in = (
        user.can(Capability.RUN_INFUSIONS)
        and plan is not None
        and order is not None
        and open_session is None
    )
    return ChartPanel(
        template="infusions/chart_panel.html",
        context={
            "patient": patient,
            "plan": plan,
            "status": plan_status(plan) if plan else None,
            "order": order,
            "open_session": open_session,
            "recent": recent,
            "can_order": user.can(Capability.WRITE_ORDERS),
            "can_check_in": can_check_in,
            "check_in_form": CheckInForm(organization_id=user.organization_pk)
            if can_check_in
            else None,
            "intake_blocks": intake_blocks(patient) if plan is None else [],
        },
        alerts=alerts,
    )
