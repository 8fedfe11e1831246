"""Interoperability: mapping Neuroclinic records to outside standards (FHIR R4 first).

The mappings own no domain logic and no models; the caller passes plain,
already-fetched values in and gets plain dicts out. Mappings and what is and is
not validated: docs/fhir.md.
"""
