from django.apps import AppConfig


class DialingConfig(AppConfig):
    name = "calldeck.dialing"
    label = "dialing"
