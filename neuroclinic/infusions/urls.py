from django.urls import path

from neuroclinic.infusions import views

app_name = "infusions"

urlpatterns = [
    path("", views.day, name="day"),
    path("board/", views.board, name="board"),
    path("board/<uuid:location_uuid>/rooms", views.board_fragment, name="board_rooms"),
    path("check-in/<uuid:patient_uuid>/", views.check_in, name="check_in"),
    path("patients/<uuid:patient_uuid>/log/", views.patient_log, name="patient_log"),
    path("sessions/<uuid:session_uuid>/", views.session_page, name="session"),
    path("sessions/<uuid:session_uuid>/live", views.session_live, name="live"),
    path(
        "sessions/<uuid:session_uuid>/instructions.pdf",
        views.instructions_pdf,
        name="instructions_pdf",
    ),
    path("sessions/<uuid:session_uuid>/cosign", views.cosign, name="cosign"),
    path(
        "sessions/<uuid:session_uuid>/alarms/<uuid:alarm_uuid>/acknowledge",
        views.acknowledge,
        name="acknowledge",
    ),
    path(
        "sessions/<uuid:session_uuid>/<slug:step_name>",
        views.session_step,
        name="step",
    ),
]
