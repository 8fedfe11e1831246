from django.apps import AppConfig


class InteropConfig(AppConfig):
    """FHIR R4: the mappings, the /fhir/ server, bulk export and import."""

    name = "neuroclinic.interop"
    label = "interop"
