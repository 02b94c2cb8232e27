from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "smmdesk.listening"
    label = "listening"
