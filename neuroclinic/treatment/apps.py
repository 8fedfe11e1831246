from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "neuroclinic.treatment"
    label = "treatment"
