from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "neuroclinic.accounts"
    label = "accounts"
