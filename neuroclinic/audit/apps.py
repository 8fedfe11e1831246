from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "neuroclinic.audit"
    label = "audit"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from neuroclinic.audit import seals
        from neuroclinic.audit.record import register_sqlite_functions

        seals.connect()
        connection_created.connect(
            register_sqlite_functions, dispatch_uid="audit_sqlite_functions"
        )
