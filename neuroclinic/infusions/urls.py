from django.urls import path

from neuroclinic.infusions.views import (
    board,
    monitoring,
    notes,
    reports,
    screen,
    session_flow,
    steps,
)

app_name = "infusions"

urlpatterns = [
    path("", reports.day, name="day"),
    path("board/", board.board, name="board"),
    path("board/<uuid:location_uuid>/rooms", board.board_fragment, name="board_rooms"),
    path("board/displays/", board.display_links, name="display_links"),
    path(
        "board/displays/<uuid:link_uuid>/revoke",
        board.revoke_display,
        name="revoke_display",
    ),
    path("display/<str:token>/", board.display, name="display"),
    path("display/<str:token>/rooms", board.display_fragment, name="display_rooms"),
    path("check-in/<uuid:patient_uuid>/", session_flow.check_in, name="check_in"),
    path("patients/<uuid:patient_uuid>/log/", reports.patient_log, name="patient_log"),
    path("sessions/<uuid:session_uuid>/", screen.session_page, name="session"),
    path("sessions/<uuid:session_uuid>/live", screen.session_live, name="live"),
    path("sessions/<uuid:session_uuid>/steps", screen.session_steps, name="steps"),
    path(
        "sessions/<uuid:session_uuid>/instructions.pdf",
        screen.instructions_pdf,
        name="instructions_pdf",
    ),
    path("sessions/<uuid:session_uuid>/cosign", notes.cosign, name="cosign"),
    path(
        "sessions/<uuid:session_uuid>/alarms/<uuid:alarm_uuid>/acknowledge",
        monitoring.acknowledge,
        name="acknowledge",
    ),
    path(
        "sessions/<uuid:session_uuid>/<slug:step_name>",
        steps.session_step,
        name="step",
    ),
]
