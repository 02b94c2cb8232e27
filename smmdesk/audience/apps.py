from django.apps import AppConfig


class AudienceConfig(AppConfig):
    name = "smmdesk.audience"
    label = "audience"
