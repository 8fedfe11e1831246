from django.urls import path

from neuroclinic.tms.views import adverse, course, patient, protocols, technician

app_name = "tms"

urlpatterns = [
    path("", course.course_list, name="courses"),
    path("courses/<uuid:course_uuid>/", course.course_page, name="course"),
    path(
        "courses/<uuid:course_uuid>/session/", technician.session_screen, name="session"
    ),
    path(
        "courses/<uuid:course_uuid>/session/<slug:step_name>",
        technician.step,
        name="step",
    ),
    path("courses/<uuid:course_uuid>/missed", course.missed_session, name="missed"),
    path(
        "courses/<uuid:course_uuid>/seizure-after-session",
        course.seizure_after_session,
        name="seizure_after",
    ),
    path("protocols/", protocols.protocol_list, name="protocols"),
    path("protocols/new", protocols.protocol_new, name="protocol_new"),
    path("protocols/<uuid:version_uuid>/", protocols.protocol_page, name="protocol"),
    path("patients/", patient.pick, name="pick"),
    path("patients/<uuid:patient_uuid>/", patient.patient_page, name="patient"),
    path("patients/<uuid:patient_uuid>/screen", patient.screen_page, name="screen"),
    path(
        "patients/<uuid:patient_uuid>/threshold",
        patient.threshold_page,
        name="threshold",
    ),
    path("patients/<uuid:patient_uuid>/order", patient.order_page, name="order"),
    path("screens/<uuid:screen_uuid>/decide", patient.decide_page, name="decide"),
    path("sessions/<uuid:session_uuid>/addendum", course.addendum, name="addendum"),
    path("seizures/<uuid:seizure_uuid>/review", course.review, name="review"),
    path(
        "courses/<uuid:course_uuid>/adverse-events",
        adverse.file_report,
        name="adverse_file",
    ),
    path(
        "adverse-events/<uuid:event_uuid>/review",
        adverse.review_report,
        name="adverse_review",
    ),
]
