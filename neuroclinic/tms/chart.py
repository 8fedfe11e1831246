"""The TMS panel on the chart: the patient's courses and every TMS adverse-event report."""

from django.urls import reverse

from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.patients.chart_panels import ChartAlert, ChartPanel
from neuroclinic.patients.models import Patient
from neuroclinic.tms import reads
from neuroclinic.tms.models import TmsCourse


def panel(request: AuthenticatedHttpRequest, patient: Patient) -> ChartPanel | None:
    if not request.user.can(Capability.VIEW_TMS):
        return None
    courses = list(TmsCourse.objects.filter(patient=patient).order_by("-ordered_at"))
    events = list(reads.patient_adverse_events(patient)[:50])
    if not courses and not events:
        return None
    alerts = [
        ChartAlert(
            text=f"TMS adverse event ({e.get_kind_display()}, serious) awaits a physician's review.",
            link=reverse("tms:course", args=[e.course.uuid]) + "#adverse",
        )
        for e in events
        if e.serious and getattr(e, "review", None) is None
    ]
    return ChartPanel(
        template="tms/chart_panel.html",
        context={"patient": patient, "courses": courses, "adverse_events": events},
        alerts=alerts,
    )
