from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "neuroclinic.outcomes"
    label = "outcomes"
