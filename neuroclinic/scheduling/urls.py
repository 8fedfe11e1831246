from django.urls import path

from neuroclinic.scheduling.views import calendar, feeds, series, tms, waitlist

app_name = "scheduling"

urlpatterns = [
    path("", calendar.day, name="day"),
    path("week/", calendar.week, name="week"),
    path("sheet/", calendar.day_sheet, name="day_sheet"),
    path(
        "appointments/<uuid:appointment_uuid>/check-in",
        calendar.check_in,
        name="check_in",
    ),
    path("appointments/<uuid:appointment_uuid>/cancel", calendar.cancel, name="cancel"),
    path("series/<uuid:patient_uuid>/", series.series_page, name="series"),
    path("tms/<uuid:course_uuid>/", tms.book_course, name="tms_course"),
    path("my-calendar/", feeds.my_feed, name="my_feed"),
    path("waitlist/", waitlist.waitlist_page, name="waitlist"),
    path("waitlist/add/<uuid:patient_uuid>/", waitlist.join, name="waitlist_join"),
    path(
        "waitlist/<uuid:entry_uuid>/withdraw",
        waitlist.withdraw,
        name="waitlist_withdraw",
    ),
    path(
        "waitlist/offers/<uuid:offer_uuid>/answer",
        waitlist.answer_offer,
        name="waitlist_answer",
    ),
    path("offer/<str:token>/", waitlist.offer, name="offer"),
    path("feed/<str:token>/visits.ics", feeds.feed, name="feed"),
]
