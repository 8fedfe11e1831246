from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "neuroclinic.clinics"
    label = "clinics"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from neuroclinic.clinics.time_zone import remember_zone

        user_logged_in.connect(remember_zone, dispatch_uid="clinics.remember_zone")
