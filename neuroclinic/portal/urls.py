from django.urls import include, path

from neuroclinic.portal import views

urlpatterns = [
    path("q/<str:token>/", views.questionnaire, name="portal_questionnaire"),
    path("q/<str:token>/check/", views.check_answer, name="portal_check"),
    path("kiosk/<str:token>/", views.kiosk, name="kiosk_questionnaire"),
    path("kiosk/<str:token>/check/", views.check_answer, name="kiosk_check"),
    path("portal/", include("neuroclinic.intake.portal_urls")),
]
