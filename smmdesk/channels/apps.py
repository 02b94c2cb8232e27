from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "smmdesk.channels"
    label = "channels"
