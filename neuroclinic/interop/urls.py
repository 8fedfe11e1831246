"""/fhir/: the FHIR R4 server (docs/fhir.md)."""

from django.urls import path, re_path

from neuroclinic.interop.server import bulk, smart, transaction, views

app_name = "fhir"

_TYPE = r"(?P<resource_type>[A-Z][A-Za-z]{1,63})"

urlpatterns = [
    path("", transaction.transaction_bundle, name="transaction"),
    path("metadata", views.metadata, name="metadata"),
    path("auth/token", smart.token, name="token"),
    path(
        ".well-known/smart-configuration",
        smart.smart_configuration,
        name="smart-configuration",
    ),
    path("$export", bulk.system_export, name="export"),
    path("Patient/$export", bulk.patient_export, name="patient-export"),
    re_path(
        r"^Group/(?P<group_id>[A-Za-z0-9\-.]{1,64})/\$export$",
        bulk.group_export,
        name="group-export",
    ),
    path("$export-status/<str:export_id>", bulk.export_status, name="export-status"),
    path("$export-file/<str:file_id>", bulk.export_file, name="export-file"),
    re_path(
        r"^Patient/(?P<resource_id>[A-Za-z0-9\-.]{1,64})/\$everything$",
        views.everything,
        name="everything",
    ),
    re_path(
        r"^Binary/(?P<resource_id>[A-Za-z0-9\-.]{1,64})$", views.binary, name="binary"
    ),
    re_path(
        rf"^{_TYPE}/(?P<resource_id>[A-Za-z0-9\-.]{{1,64}})/_history$",
        views.history,
        name="history",
    ),
    re_path(
        rf"^{_TYPE}/(?P<resource_id>[A-Za-z0-9\-.]{{1,64}})/_history/"
        r"(?P<version_id>[A-Za-z0-9\-.]{1,64})$",
        views.vread,
        name="vread",
    ),
    re_path(rf"^{_TYPE}$", views.search, name="search"),
    re_path(rf"^{_TYPE}/_search$", views.search, name="search-post"),
    re_path(
        rf"^{_TYPE}/(?P<resource_id>[A-Za-z0-9\-.]{{1,64}})$", views.read, name="read"
    ),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
