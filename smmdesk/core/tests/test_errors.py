"""A request that found the database too busy answers 503 with Retry-After, not a 500; any other failure
is still Django's 500."""

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from psycopg_pool import PoolTimeout

from smmdesk.core import errors

pytestmark = pytest.mark.django_db


def pool_exhausted(*args, **kwargs):
    # As Django raises it: psycopg_pool's timeout wrapped in django.db's OperationalError.
    try:
        raise PoolTimeout("couldn't get a connection after 10.00 sec")
    except PoolTimeout as exc:
        raise OperationalError("couldn't get a connection after 10.00 sec") from exc


def sqlite_locked(*args, **kwargs):
    raise OperationalError("database is locked")


def broken(*args, **kwargs):
    raise ValueError("a bug")


def owner_client(cast):
    client = Client(raise_request_exception=False)
    client.force_login(cast.users["owner"])
    return client


@pytest.mark.parametrize("failure", [pool_exhausted, sqlite_locked])
def test_a_page_on_a_busy_database_asks_to_retry(cast, monkeypatch, failure):
    monkeypatch.setattr("smmdesk.core.views.actions.dashboard", failure)
    response = owner_client(cast).get(reverse("core:dashboard", args=[cast.workspace.slug]))
    assert response.status_code == 503
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    assert str(errors.BUSY_TEXT) in response.content.decode()


def test_the_api_on_a_busy_database_answers_json_503(cast, monkeypatch):
    monkeypatch.setattr("smmdesk.inbox.api.queries.filtered", pool_exhausted)
    response = owner_client(cast).get(f"/api/w/{cast.workspace.slug}/conversations")
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    assert response.json() == {"error": str(errors.BUSY_TEXT)}


def test_any_other_failure_is_a_plain_500(cast, monkeypatch):
    monkeypatch.setattr("smmdesk.core.views.actions.dashboard", broken)
    response = owner_client(cast).get(reverse("core:dashboard", args=[cast.workspace.slug]))
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_other_operational_errors_are_not_taken_for_busy():
    assert not errors.database_busy(OperationalError("no such table: inbox_message"))
    assert not errors.database_busy(None)
    try:
        pool_exhausted()
    except OperationalError as exc:
        assert errors.database_busy(exc)
