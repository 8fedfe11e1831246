from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "neuroclinic.measures"
    label = "measures"
