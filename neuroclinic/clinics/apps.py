from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "neuroclinic.clinics"
    label = "clinics"
