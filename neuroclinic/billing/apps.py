from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "neuroclinic.billing"
    label = "billing"
