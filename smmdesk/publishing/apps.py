from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "smmdesk.publishing"
    label = "publishing"
