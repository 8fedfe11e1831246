from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "neuroclinic.portal"
    label = "portal"
