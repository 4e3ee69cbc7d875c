from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "calldeck.reports"
    label = "reports"
