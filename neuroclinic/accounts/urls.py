from django.urls import path

from neuroclinic.accounts import tablet_lock, views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("sign-in/code/", views.two_factor, name="two_factor"),
    path("sign-out/", views.sign_out, name="logout"),
    path("hand-back/", tablet_lock.unlock, name="unlock"),
    path("password/", views.password_change, name="password_change"),
    path("staff/", views.users, name="users"),
    path("staff/new/", views.new_user, name="new_user"),
    path("staff/<uuid:user_uuid>/", views.edit_user, name="edit_user"),
    path(
        "staff/<uuid:user_uuid>/reset-two-factor/",
        views.reset_user_two_factor,
        name="reset_two_factor",
    ),
]
