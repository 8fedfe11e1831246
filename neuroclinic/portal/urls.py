"""The patient portal's addresses. Every path is the one already sent to patients.

The questionnaire links keep their names (`portal_questionnaire`, `kiosk_questionnaire`)
because measures builds and redirects to them; the signed-in portal is the "portal"
namespace under /portal/.
"""

from django.urls import include, path

from neuroclinic.portal import bills, booster, questionnaires, views, visits

signed_in = [
    path("sign-in/<str:token>/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("", views.home, name="home"),
    path("section/<slug:key>/", views.section, name="section"),
    path("questionnaires/", questionnaires.intake_list, name="questionnaires"),
    path(
        "questionnaires/<slug:code>/",
        questionnaires.intake_questionnaire,
        name="questionnaire",
    ),
    path(
        "questionnaires/<slug:code>/check/",
        questionnaires.intake_check,
        name="questionnaire_check",
    ),
    path("documents/", views.documents, name="documents"),
    path("progress/", views.progress, name="progress"),
    path("submit/", views.submit, name="submit"),
    path("consents/", views.consents, name="consents"),
    path("consents/<uuid:document_uuid>/", views.consent, name="consent"),
    path("visits/", visits.visits, name="visits"),
    path("visits/booster/", booster.pick_booster, name="booster"),
    *bills.urlpatterns,
]

urlpatterns = [
    path("q/<str:token>/", questionnaires.by_link, name="portal_questionnaire"),
    path("q/<str:token>/check/", questionnaires.check_by_link, name="portal_check"),
    path("kiosk/<str:token>/", questionnaires.kiosk, name="kiosk_questionnaire"),
    path("kiosk/<str:token>/check/", questionnaires.check_by_link, name="kiosk_check"),
    path("v/<str:token>/", visits.by_link, name="visit_link"),
    path("portal/", include((signed_in, "portal"))),
]
