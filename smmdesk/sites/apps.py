from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "smmdesk.sites"
    label = "sites"
