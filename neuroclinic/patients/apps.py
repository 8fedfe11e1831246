from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "neuroclinic.patients"
    label = "patients"
