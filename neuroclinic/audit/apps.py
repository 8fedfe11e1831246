from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "neuroclinic.audit"
    label = "audit"
