from django.urls import path

from neuroclinic.clinics import views

app_name = "clinics"
urlpatterns = [
    path("", views.clinic_settings, name="settings"),
    path("<slug:kind>/new/", views.edit_object, name="new_object"),
    path("<slug:kind>/<uuid:object_uuid>/", views.edit_object, name="edit_object"),
]
