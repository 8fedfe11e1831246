from django.urls import path

from neuroclinic.operations import views

app_name = "operations"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tasks/<uuid:task_id>/retry/", views.retry, name="retry"),
]
