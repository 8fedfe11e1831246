from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "neuroclinic.notifications"
    label = "notifications"
