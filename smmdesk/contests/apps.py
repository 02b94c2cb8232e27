from django.apps import AppConfig


class ContestsConfig(AppConfig):
    name = "smmdesk.contests"
    label = "contests"
