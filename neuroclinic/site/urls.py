from django.urls import path

from neuroclinic.site import views

app_name = "site"

urlpatterns = [
    path("", views.home, name="home"),
    path("conditions/", views.page, {"slug": "conditions"}, name="conditions"),
    path("treatments/", views.page, {"slug": "treatments"}, name="treatments"),
    path("process/", views.page, {"slug": "process"}, name="process"),
    path("faq/", views.page, {"slug": "faq"}, name="faq"),
    path("contact/", views.page, {"slug": "contact"}, name="contact"),
    path("team/", views.team, name="team"),
    path("site/photos/<uuid:photo_uuid>.jpg", views.photo, name="photo"),
    path(
        "site/clinicians/<uuid:profile_uuid>.jpg",
        views.clinician_photo,
        name="clinician_photo",
    ),
    path("self-check/", views.self_check_start, name="self_check_start"),
    path("self-check/<slug:code>/", views.self_check, name="self_check"),
    path("self-check/<slug:code>/item/", views.self_check_item, name="self_check_item"),
    path("consultation/", views.consultation, name="consultation"),
    path("consultation/thanks/", views.consultation_thanks, name="consultation_thanks"),
    path("site/theme.css", views.theme_css, name="theme_css"),
    path("site/logo", views.logo, name="logo"),
    path("staff/site/", views.edit_index, name="edit_index"),
    path("staff/site/settings/", views.edit_settings, name="edit_settings"),
    path("staff/site/pages/<slug:slug>/", views.edit_page, name="edit_page"),
    path("staff/site/faq/new/", views.edit_faq, name="new_faq"),
    path("staff/site/faq/<uuid:entry_uuid>/", views.edit_faq, name="edit_faq"),
    path("staff/site/clinicians/new/", views.edit_clinician, name="new_clinician"),
    path(
        "staff/site/clinicians/<uuid:profile_uuid>/",
        views.edit_clinician,
        name="edit_clinician",
    ),
    path(
        "staff/site/clinicians/<uuid:profile_uuid>/photo",
        views.edit_clinician_photo,
        name="edit_clinician_photo",
    ),
    path("staff/site/photos/new/", views.edit_photo, name="new_photo"),
    path(
        "staff/site/photos/<uuid:photo_uuid>/image",
        views.edit_photo_image,
        name="edit_photo_image",
    ),
    path("staff/site/photos/<uuid:photo_uuid>/", views.edit_photo, name="edit_photo"),
]
