from django.apps import AppConfig


class NlpConfig(AppConfig):
    name = "smmdesk.nlp"
    label = "nlp"

    def ready(self):
        from smmdesk.inbox import triage
        from smmdesk.nlp import triage as nlp_triage

        # Ingestion keeps calling inbox.triage.classify; from here on it is language detection, the
        # calibrated fast sentiment pass and the flags. The embedding refinement follows in the worker.
        triage.set_classifier(nlp_triage.classify, nlp_triage.classify_many)
