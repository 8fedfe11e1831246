from django.urls import path

from neuroclinic.intake import views

app_name = "intake"

urlpatterns = [
    path("requests/", views.queue, name="queue"),
    path("requests/<uuid:request_uuid>/", views.consult_detail, name="consult"),
    path("requests/<uuid:request_uuid>/convert/", views.convert, name="convert"),
    path("", views.worklist, name="worklist"),
    path("patients/<uuid:patient_uuid>/", views.patient_intake, name="patient"),
    path(
        "patients/<uuid:patient_uuid>/sign-in-link/", views.send_link, name="send_link"
    ),
    path("patients/<uuid:patient_uuid>/remind/", views.remind, name="remind"),
    path("patients/<uuid:patient_uuid>/upload/", views.upload, name="upload"),
    path("patients/<uuid:patient_uuid>/answers/", views.answers, name="answers"),
    path(
        "patients/<uuid:patient_uuid>/eligibility/",
        views.eligibility_review,
        name="eligibility",
    ),
    path(
        "patients/<uuid:patient_uuid>/consent-tablet/",
        views.consent_tablet,
        name="consent_tablet",
    ),
    path("documents/<uuid:document_uuid>/", views.document, name="document"),
    path(
        "decisions/<uuid:decision_uuid>/letter.pdf",
        views.clearance_letter,
        name="clearance_letter",
    ),
    path(
        "consents/<uuid:signature_uuid>/signed.pdf",
        views.consent_pdf,
        name="consent_pdf",
    ),
    path("consent-forms/", views.consent_forms, name="consent_forms"),
    path("consent-forms/<slug:kind>/", views.consent_form_edit, name="consent_form"),
    path("rules/", views.rules, name="rules"),
]
