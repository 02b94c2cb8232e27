from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "smmdesk.core"
    label = "core"
