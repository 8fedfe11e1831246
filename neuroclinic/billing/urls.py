from django.urls import path

from neuroclinic.billing.views import account, documents, em_rules, reports, setup

app_name = "billing"

urlpatterns = [
    path("", setup.home, name="home"),
    path("setup/price", setup.set_price, name="set_price"),
    path("setup/package", setup.set_package, name="set_package"),
    path("setup/identity", setup.set_identity, name="set_identity"),
    path("setup/provider", setup.set_provider, name="set_provider"),
    path("setup/em-rules/", em_rules.em_rules_page, name="em_rules"),
    path("reports/aging/", reports.aging, name="aging"),
    path("reports/day-end/", reports.day_end, name="day_end"),
    path("patients/<uuid:patient_uuid>/", account.account, name="account"),
    path(
        "patients/<uuid:patient_uuid>/payer-status",
        account.set_payer_status,
        name="payer_status",
    ),
    path(
        "patients/<uuid:patient_uuid>/estimates",
        account.give_estimate,
        name="give_estimate",
    ),
    path(
        "patients/<uuid:patient_uuid>/packages",
        account.sell_package,
        name="sell_package",
    ),
    path(
        "patients/<uuid:patient_uuid>/statements",
        account.make_statement,
        name="make_statement",
    ),
    path(
        "patients/<uuid:patient_uuid>/superbills",
        account.make_superbill,
        name="make_superbill",
    ),
    path(
        "patients/<uuid:patient_uuid>/sessions/<uuid:session_uuid>/invoice",
        account.invoice_session,
        name="invoice_session",
    ),
    path(
        "patients/<uuid:patient_uuid>/tms/<uuid:session_uuid>/invoice",
        account.invoice_tms_session,
        name="invoice_tms_session",
    ),
    path(
        "patients/<uuid:patient_uuid>/visits/<uuid:appointment_uuid>/invoice",
        account.invoice_visit,
        name="invoice_visit",
    ),
    path("invoices/<uuid:invoice_uuid>/payments", account.pay, name="pay"),
    path(
        "invoices/<uuid:invoice_uuid>/superbill",
        account.invoice_superbill,
        name="invoice_superbill",
    ),
    path("invoices/<uuid:invoice_uuid>.pdf", documents.invoice_pdf, name="invoice_pdf"),
    path("payments/<uuid:payment_uuid>/refund", account.refund, name="refund"),
    path(
        "package-sales/<uuid:sale_uuid>/close",
        account.close_package,
        name="close_package",
    ),
    path(
        "estimates/<uuid:estimate_uuid>.pdf",
        documents.estimate_pdf,
        name="estimate_pdf",
    ),
    path(
        "superbills/<uuid:superbill_uuid>.pdf",
        documents.superbill_pdf,
        name="superbill_pdf",
    ),
    path(
        "statements/<uuid:statement_uuid>.pdf",
        documents.statement_pdf,
        name="statement_pdf",
    ),
    path(
        "superbills/<uuid:superbill_uuid>.csv",
        documents.superbill_csv,
        name="superbill_csv",
    ),
]
