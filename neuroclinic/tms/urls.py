from django.urls import path

from neuroclinic.tms.views import course, technician

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
    path("seizures/<uuid:seizure_uuid>/review", course.review, name="review"),
]
