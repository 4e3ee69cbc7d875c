from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "calldeck.audit"
    label = "audit"
