from django.apps import AppConfig


class CallscriptsConfig(AppConfig):
    name = "calldeck.callscripts"
    label = "callscripts"
