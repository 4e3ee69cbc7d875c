from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calldeck.calls"
    label = "calls"
