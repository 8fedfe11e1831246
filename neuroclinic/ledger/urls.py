from django.urls import path

from neuroclinic.ledger.views import (
    counts,
    dashboard,
    inventories,
    receiving,
    reports,
    sessions,
    vials,
)

app_name = "ledger"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("setup/", dashboard.setup, name="setup"),
    path("receive/", receiving.receive, name="receive"),
    path("receipts/<uuid:receipt_uuid>/", receiving.receipt, name="receipt"),
    path(
        "receipts/<uuid:receipt_uuid>/scan",
        receiving.receipt_scan,
        name="receipt_scan",
    ),
    path("draw/", sessions.draw, name="draw"),
    path("sessions/<uuid:session_ref>/", sessions.session, name="session"),
    path(
        "sessions/<uuid:session_ref>/<slug:step>",
        sessions.session_step,
        name="session_step",
    ),
    path("vials/<uuid:container_uuid>/", vials.vial, name="vial"),
    path("vials/<uuid:container_uuid>/<slug:step>", vials.vial_step, name="vial_step"),
    path("entries/", vials.entries, name="entries"),
    path("entries/<uuid:entry_uuid>/", vials.entry, name="entry"),
    path("safes/<uuid:safe_uuid>/count", counts.count_new, name="count_new"),
    path("counts/<uuid:count_uuid>/", counts.count, name="count"),
    path(
        "discrepancies/<uuid:discrepancy_uuid>/",
        counts.discrepancy,
        name="discrepancy",
    ),
    path("tasks/<uuid:task_uuid>/done", counts.task_done, name="task_done"),
    path("inventories/", inventories.inventories, name="inventories"),
    path("inventories/new", inventories.inventory_new, name="inventory_new"),
    path("inventories/<uuid:inventory_uuid>/", inventories.inventory, name="inventory"),
    path(
        "inventories/<uuid:inventory_uuid>.<slug:fmt>",
        inventories.inventory_export,
        name="inventory_export",
    ),
    path("reports/", reports.reports, name="reports"),
    path("checks/run", reports.run_check_now, name="run_check"),
]
