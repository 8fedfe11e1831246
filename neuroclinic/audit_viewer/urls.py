from django.urls import path

from neuroclinic.audit_viewer import views

app_name = "audit"
urlpatterns = [
    path("", views.events, name="events"),
    path("export.csv", views.export_csv, name="export"),
]
