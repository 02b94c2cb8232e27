from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "smmdesk.listening"
    label = "listening"

    def ready(self):
        from smmdesk.inbox import ingest
        from smmdesk.listening import sources

        # Comments and posts of the workspace's own channels are matched as the inbox takes them in.
        ingest.set_listener(sources.on_inbox_events)
