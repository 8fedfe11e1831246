from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "neuroclinic.scheduling"
    label = "scheduling"
