from django.apps import AppConfig


class TmsConfig(AppConfig):
    name = "neuroclinic.tms"
    label = "tms"
    verbose_name = "rTMS and iTBS"
