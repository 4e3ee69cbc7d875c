from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "calldeck.api"
    label = "api"
