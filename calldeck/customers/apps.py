from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "calldeck.customers"
    label = "customers"
