from django.apps import AppConfig


class ContestsConfig(AppConfig):
    name = "smmdesk.contests"
    label = "contests"

    def ready(self):
        # The fake network is in each process's memory: every process (the server, the demo loader)
        # knows the demo posts' entrants, so a contest collected in the server finds them.
        from smmdesk.contests.demo import seed_fake_network

        seed_fake_network()
