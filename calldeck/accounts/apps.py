from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "calldeck.accounts"
    label = "accounts"
