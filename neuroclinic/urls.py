from django.urls import include, path

from neuroclinic import views
from neuroclinic.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("neuroclinic.accounts.urls")),
    path("patients/", include("neuroclinic.patients.urls")),
    path("audit/", include("neuroclinic.audit.urls")),
    path("clinic/", include("neuroclinic.clinics.urls")),
    path("api/", api.urls),
]
