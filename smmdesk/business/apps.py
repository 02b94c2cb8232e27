from django.apps import AppConfig


class BusinessConfig(AppConfig):
    name = "smmdesk.business"
    label = "business"
