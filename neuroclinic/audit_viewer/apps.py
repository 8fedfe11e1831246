from django.apps import AppConfig


class AuditViewerConfig(AppConfig):
    name = "neuroclinic.audit_viewer"
    label = "audit_viewer"
