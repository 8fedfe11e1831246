from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The clinic's public pages. Label "site" does not clash with django.contrib.sites ("sites")."""

    name = "neuroclinic.site"
    label = "site"
    verbose_name = "Public site"
