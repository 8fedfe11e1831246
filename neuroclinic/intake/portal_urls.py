"""The patient's intake portal, mounted at /portal/ (namespace "intake_portal")."""

from django.urls import path

from neuroclinic.intake import portal_views as views

app_name = "intake_portal"

urlpatterns = [
    path("sign-in/<str:token>/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("", views.home, name="home"),
    path("section/<slug:key>/", views.section, name="section"),
    path("questionnaires/", views.questionnaires, name="questionnaires"),
    path("questionnaires/<slug:code>/", views.questionnaire, name="questionnaire"),
    path(
        "questionnaires/<slug:code>/check/",
        views.questionnaire_check,
        name="questionnaire_check",
    ),
    path("documents/", views.documents, name="documents"),
    path("progress/", views.progress, name="progress"),
    path("submit/", views.submit, name="submit"),
    path("consents/", views.consents, name="consents"),
    path("consents/<uuid:document_uuid>/", views.consent, name="consent"),
]
