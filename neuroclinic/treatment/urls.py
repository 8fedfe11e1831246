from django.urls import path

from neuroclinic.treatment import views

app_name = "treatment"

urlpatterns = [
    path("protocols/", views.protocols, name="protocols"),
    path("protocols/new", views.protocol_new, name="protocol_new"),
    path("protocols/<uuid:protocol_uuid>/", views.protocol, name="protocol"),
    path("patients/<uuid:patient_uuid>/plan/new", views.plan_new, name="plan_new"),
    path("plans/<uuid:plan_uuid>/", views.plan, name="plan"),
    path("plans/<uuid:plan_uuid>/orders/sign", views.sign_order, name="sign_order"),
    path(
        "plans/<uuid:plan_uuid>/orders/discontinue",
        views.discontinue_order,
        name="discontinue_order",
    ),
    path("plans/<uuid:plan_uuid>/end", views.end_plan, name="end_plan"),
]
