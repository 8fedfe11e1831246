from django.urls import path

from neuroclinic.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.register, name="register"),
    path("<uuid:patient_uuid>/", views.chart, name="chart"),
    path("<uuid:patient_uuid>/edit/", views.edit, name="edit"),
    path("<uuid:patient_uuid>/print/", views.chart_print, name="print"),
    path("<uuid:patient_uuid>/export.json", views.chart_export, name="export"),
    path("<uuid:patient_uuid>/<slug:section>/new/", views.add_entry, name="add_entry"),
    path(
        "<uuid:patient_uuid>/<slug:section>/<uuid:entry_uuid>/end/",
        views.end_entry,
        name="end_entry",
    ),
]
