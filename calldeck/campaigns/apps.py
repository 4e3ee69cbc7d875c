from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "calldeck.campaigns"
    label = "campaigns"
