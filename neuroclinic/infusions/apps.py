from django.apps import AppConfig


class InfusionsConfig(AppConfig):
    name = "neuroclinic.infusions"
    label = "infusions"
