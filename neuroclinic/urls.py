from django.urls import include, path

from neuroclinic import views
from neuroclinic.api import api

urlpatterns = [
    path("staff/", views.home, name="home"),
    path("staff/work/", views.home_panels, name="home_panels"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("neuroclinic.accounts.urls")),
    path("patients/", include("neuroclinic.patients.urls")),
    path("audit/", include("neuroclinic.audit_viewer.urls")),
    path("clinic/", include("neuroclinic.clinics.urls")),
    path("measures/", include("neuroclinic.measures.urls")),
    path("inbox/", include("neuroclinic.notifications.urls")),
    path("", include("neuroclinic.portal.urls")),
    path("ledger/", include("neuroclinic.ledger.urls")),
    path("api/", api.urls),
    path("intake/", include("neuroclinic.intake.urls")),
    path("treatment/", include("neuroclinic.treatment.urls")),
    path("infusions/", include("neuroclinic.infusions.urls")),
    path("tms/", include("neuroclinic.tms.urls")),
    path("billing/", include("neuroclinic.billing.urls")),
    path("letters/", include("neuroclinic.letters.urls")),
    path("schedule/", include("neuroclinic.scheduling.urls")),
    path("operations/", include("neuroclinic.operations.urls")),
    path("fhir/", include("neuroclinic.interop.urls")),
    path("outcomes/", include("neuroclinic.outcomes.urls")),
    path("", include("neuroclinic.site.urls")),
]
