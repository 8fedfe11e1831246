from django.urls import path

from neuroclinic.measures import views

app_name = "measures"
urlpatterns = [
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<uuid:alert_uuid>/", views.alert_detail, name="alert"),
    path(
        "alerts/<uuid:alert_uuid>/resume/",
        views.alert_resume,
        name="alert_resume",
    ),
    path("worklist/", views.worklist, name="worklist"),
    path("settings/", views.measure_settings, name="settings"),
    path("settings/wording/<slug:code>/", views.item_wording, name="wording"),
    path("patients/<uuid:patient_uuid>/", views.patient_measures, name="patient"),
    path(
        "patients/<uuid:patient_uuid>/new/<slug:code>/",
        views.enter_response,
        name="enter",
    ),
    path("patients/<uuid:patient_uuid>/send-link/", views.send_link, name="send_link"),
    path("patients/<uuid:patient_uuid>/tablet/", views.start_kiosk, name="start_kiosk"),
    path("patients/<uuid:patient_uuid>/flag/", views.flag_concern, name="flag"),
    path(
        "patients/<uuid:patient_uuid>/responses/<uuid:response_uuid>/",
        views.response_detail,
        name="response",
    ),
    path(
        "patients/<uuid:patient_uuid>/responses/<uuid:response_uuid>/amend/",
        views.amend_response,
        name="amend",
    ),
]
