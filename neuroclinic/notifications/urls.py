from django.urls import path

from neuroclinic.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<uuid:notification_uuid>/open/", views.open_notification, name="open"),
]
