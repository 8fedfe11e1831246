from django.urls import path

from neuroclinic.outcomes.views import reports, worklists

app_name = "outcomes"
urlpatterns = [
    path("boosters/", worklists.booster_worklist, name="boosters"),
    path("boosters/<uuid:suggestion_uuid>/confirm/", worklists.confirm, name="confirm"),
    path("boosters/<uuid:suggestion_uuid>/dismiss/", worklists.dismiss, name="dismiss"),
    path("boosters/to-book/", worklists.boosters_to_book, name="to_book"),
    path("boosters/<uuid:suggestion_uuid>/book/", worklists.book, name="book"),
    path("follow-ups/", worklists.follow_ups, name="follow_ups"),
    path(
        "follow-ups/<uuid:task_uuid>/done/",
        worklists.follow_up_done,
        name="follow_up_done",
    ),
    path("dashboard/", reports.dashboard_page, name="dashboard"),
    path("dashboard/patients/", reports.figure_patients, name="figure_patients"),
    path("dashboard/rates/patients/", reports.rate_patients, name="rate_patients"),
    path("quality/", reports.quality_page, name="quality"),
    path("rules/", reports.rules_page, name="rules"),
    path("research-export.zip", reports.research_export, name="export"),
]
