"""Schemathesis over /api/openapi.json: no generated request may get a server error.

The schema is read from the app itself (in-process WSGI, no server), and every operation is called as the
owner of the demo workspace, with a bounded number of examples and a fixed seed so a run is repeatable.
Path ids are drawn half the time from rows that exist (in both demo workspaces, so another workspace's
ids are tried too), or every call on an object would stop at a 404.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import response_schema_conformance

MAX_EXAMPLES = 8
TOKEN = "fuzz-owner-token-0123456789abcdefghijklmnop"
SLUG = "demo-orenburg"
OWNER = "owner@demo-orenburg.example"
# Path parameter name -> model label whose ids it takes.
ID_MODELS = {
    "ad_id": "ads.Ad",
    "campaign_id": "ads.Campaign",
    "channel_id": "channels.Channel",
    "cluster_id": "keywords.Cluster",
    "contest_id": "contests.Contest",
    "conversation_id": "inbox.Conversation",
    "department_id": "business.Department",
    "entrant_id": "contests.Entrant",
    "handoff_id": "inbox.HandOff",
    "holiday_id": "business.HolidayException",
    "job_id": "audience.ImportJob",
    "landmark_id": "keywords.Landmark",
    "mention_id": "listening.Mention",
    "negative_id": "keywords.NegativeKeyword",
    "order_id": "audience.Order",
    "page_id": "sites.Page",
    "post_id": "publishing.Post",
    "segment_id": "audience.Segment",
    "service_id": "business.Service",
    "source_id": "listening.Source",
    "term_id": "listening.TrackedTerm",
    "trend_id": "listening.Trend",
    "variant_id": "publishing.Variant",
}
existing_ids: dict[str, list[int]] = {}

config = schemathesis.Config.from_dict(
    {
        "seed": 20261126,
        "headers": {"Authorization": f"Bearer {TOKEN}"},
        "parameters": {"slug": SLUG},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler(), config=config)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    known = {
        name: st.sampled_from(existing_ids[name])
        for name in path_parameters or {}
        if existing_ids.get(name) and name in ID_MODELS
    }
    if not known:
        return st.just(path_parameters)
    real = st.fixed_dictionaries(known).map(lambda ids: {**path_parameters, **ids})
    return st.one_of(st.just(path_parameters), real)


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The demo, loaded once for the module and committed; each operation's writes are rolled back."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    from smmdesk.accounts.models import ApiToken, User
    from smmdesk.core import demo
    from smmdesk.lib.crypto import token_hash

    # As Django's own test client does: the handler closes "obsolete" connections after each request,
    # and on PostgreSQL that would close the one holding the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        demo.load()
        owner = User.objects.get(email=OWNER)
        ApiToken.objects.create(user=owner, name="fuzz", token_hash=token_hash(TOKEN), prefix=TOKEN[:10])
        for name, label in ID_MODELS.items():
            model = apps.get_model(label)
            existing_ids[name] = list(model.objects.order_by("pk").values_list("pk", flat=True)[:10])
    yield
    existing_ids.clear()
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
    # Flush gave the content types new ids; the tests that follow must not use cached ones.
    ContentType.objects.clear_cache()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _demo_data_and_a_rolled_back_transaction(demo_data, db):
    yield


@schema.parametrize()
def test_no_operation_answers_a_server_error(case):
    case.call_and_validate(checks=[schemathesis.checks.not_a_server_error, response_schema_conformance])
