from django.urls import path

from neuroclinic.letters import views

app_name = "letters"

urlpatterns = [
    path(
        "patients/<uuid:patient_uuid>/", views.patient_letters, name="patient_letters"
    ),
    path(
        "patients/<uuid:patient_uuid>/part2-consent",
        views.part2_consent,
        name="part2_consent",
    ),
    path("clearance/<uuid:decision_uuid>/", views.clearance_request, name="clearance"),
    path("<uuid:letter_uuid>/", views.letter_page, name="letter"),
    path("<uuid:letter_uuid>/edit", views.edit, name="edit"),
    path("<uuid:letter_uuid>/sign", views.sign, name="sign"),
    path("<uuid:letter_uuid>/send", views.send, name="send"),
    path("<uuid:letter_uuid>.pdf", views.letter_pdf, name="pdf"),
    path("<uuid:letter_uuid>/addendum", views.addendum, name="addendum"),
    path("templates/<str:kind>/", views.template_editor, name="template"),
    path("link/<str:token>/", views.shared, name="shared"),
]
