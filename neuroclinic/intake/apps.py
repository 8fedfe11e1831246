from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "neuroclinic.intake"
    label = "intake"
    verbose_name = "Intake, eligibility and consent"
