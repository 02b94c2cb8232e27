from django.apps import AppConfig


class KeywordsConfig(AppConfig):
    name = "smmdesk.keywords"
    label = "keywords"
