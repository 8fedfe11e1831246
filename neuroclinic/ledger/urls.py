from django.urls import path

from neuroclinic.ledger import views

app_name = "ledger"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("setup/", views.setup, name="setup"),
    path("receive/", views.receive, name="receive"),
    path("receipts/<uuid:receipt_uuid>/", views.receipt, name="receipt"),
    path("receipts/<uuid:receipt_uuid>/scan", views.receipt_scan, name="receipt_scan"),
    path("draw/", views.draw, name="draw"),
    path("sessions/<uuid:session_ref>/", views.session, name="session"),
    path(
        "sessions/<uuid:session_ref>/<slug:step>",
        views.session_step,
        name="session_step",
    ),
    path("vials/<uuid:container_uuid>/", views.vial, name="vial"),
    path("vials/<uuid:container_uuid>/<slug:step>", views.vial_step, name="vial_step"),
    path("entries/", views.entries, name="entries"),
    path("entries/<uuid:entry_uuid>/", views.entry, name="entry"),
    path("safes/<uuid:safe_uuid>/count", views.count_new, name="count_new"),
    path("counts/<uuid:count_uuid>/", views.count, name="count"),
    path(
        "discrepancies/<uuid:discrepancy_uuid>/",
        views.discrepancy,
        name="discrepancy",
    ),
    path("tasks/<uuid:task_uuid>/done", views.task_done, name="task_done"),
    path("inventories/", views.inventories, name="inventories"),
    path("inventories/new", views.inventory_new, name="inventory_new"),
    path("inventories/<uuid:inventory_uuid>/", views.inventory, name="inventory"),
    path(
        "inventories/<uuid:inventory_uuid>.<slug:fmt>",
        views.inventory_export,
        name="inventory_export",
    ),
    path("reports/", views.reports, name="reports"),
    path("checks/run", views.run_check_now, name="run_check"),
]
