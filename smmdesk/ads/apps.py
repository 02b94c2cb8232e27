from django.apps import AppConfig


class AdsConfig(AppConfig):
    name = "smmdesk.ads"
    label = "ads"
