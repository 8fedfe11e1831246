from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "neuroclinic.audit"
    label = "audit"

    def ready(self) -> None:
        from neuroclinic.audit import seals

        seals.connect()
