from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "calldeck.desk"
    label = "desk"
