from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the clinic's software: background work, backups, deployment, database routing."""

    name = "neuroclinic.operations"
    label = "operations"

    def ready(self) -> None:
        from neuroclinic.operations import checks  # noqa: F401  (registers system checks)
