from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "neuroclinic.ledger"
    label = "ledger"
    verbose_name = "Controlled-substance ledger"
