"""/fhir/: the FHIR R4 server (docs/fhir.md)."""

from django.urls import path, re_path

from neuroclinic.interop.server import views

app_name = "fhir"

_TYPE = r"(?P<resource_type>[A-Z][A-Za-z]{1,63})"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    re_path(rf"^{_TYPE}$", views.search, name="search"),
    re_path(rf"^{_TYPE}/_search$", views.search, name="search-post"),
    re_path(
        rf"^{_TYPE}/(?P<resource_id>[A-Za-z0-9\-.]{{1,64}})$", views.read, name="read"
    ),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
