from django.apps import AppConfig


class InfusionsConfig(AppConfig):
    name = "neuroclinic.infusions"
    label = "infusions"

    def ready(self) -> None:
        # The ledger asks the infusion record before any patient draw or administration.
        from neuroclinic.infusions.ledger_authority import vouch
        from neuroclinic.ledger import authority

        authority.register(vouch)
