from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "neuroclinic.letters"
    label = "letters"
