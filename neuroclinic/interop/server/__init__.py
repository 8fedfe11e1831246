"""The FHIR server at /fhir/: HTTP plumbing, search parameters, the resource table, views."""
