"""CSRF: every state-changing request made with a signed-in browser session needs the CSRF token.

Generated from the URL conf and the API: each address gets POST, PUT, PATCH and DELETE from a signed-in
owner (the role that may do everything, so a refusal cannot come from the role check) through a client
that enforces CSRF the way a browser request is checked, with the CSRF cookie present but no token (or
a forged one) in the request, as a form on another site would send it. Each must be refused with 403,
and the database must not change at all.

The documented exceptions are listed with their reason; any other view marked csrf_exempt fails here.
"""

import hashlib
import json

import pytest
from django.db import connection
from django.test import Client

from smmdesk.accounts import actions as account_actions
from smmdesk.api import api
from tests.test_csp import fill_route
from tests.test_permissions import API_OPS, ROUTES, fill_api_path, sample_objects

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Views that take state-changing requests without the CSRF token, and why that is safe.
CSRF_EXEMPT = {
    "hooks:receive": "network webhooks: each request is verified by the network's signature over the "
    "body (or a secret path token), never by a cookie; see docs/inbound-webhook.md",
    "hooks:chat_config": "the widget's public settings, read cross-origin by the widget",
    "hooks:chat_session": "the widget starts a visitor session from the business's own site: allowed "
    "origins are checked, and the visitor token it returns is sent in a header, not a cookie",
    "hooks:chat_messages": "the widget's messages: authenticated by the visitor token header (not a "
    "cookie, so another site cannot borrow it) and the allowed-origin list",
}
# Signed-in session plus the CSRF cookie, and what is sent instead of the real token.
FORGED_TOKEN = "x" * 32


def fingerprint() -> dict[str, str]:
    """A digest of every row of every table: any write a refused request let through changes it."""
    digests = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from introspection
            rows = sorted(repr(row) for row in cursor.fetchall())
            digests[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return digests


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(table for table in set(before) | set(after) if before.get(table) != after.get(table))


def signed_in_browser(user) -> Client:
    """A client holding a session and the CSRF cookie, as a member's browser does after opening a page."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get("/accounts/me/").status_code == 200
    assert browser.cookies.get("csrftoken"), "the page did not set the CSRF cookie"
    return browser


def test_only_the_documented_views_are_csrf_exempt():
    exempt = sorted(
        name for _route, pattern, name in ROUTES if getattr(pattern.callback, "csrf_exempt", False)
    )
    assert exempt == sorted(CSRF_EXEMPT)


CHECKED_ROUTES = [(r, p, n) for r, p, n in ROUTES if n not in CSRF_EXEMPT]


@pytest.mark.parametrize("route,pattern,name", CHECKED_ROUTES, ids=[n for _r, _p, n in CHECKED_ROUTES])
def test_state_changing_requests_without_the_token_are_refused(cast, route, pattern, name):
    mine, _theirs = sample_objects(cast)
    browser = signed_in_browser(cast.users["owner"])
    url = fill_route(route, name, cast, mine)
    before = fingerprint()
    for method in UNSAFE:
        # A form post carries no token; a script's request a forged header.
        headers = {} if method == "POST" else {"HTTP_X_CSRFTOKEN": FORGED_TOKEN}
        response = browser.generic(
            method, url, b"name=changed&text=changed", "application/x-www-form-urlencoded", **headers
        )
        assert response.status_code == 403, (name, method, response.status_code)
        assert b"CSRF verification failed" in response.content, (name, method)
    assert changed(before, fingerprint()) == [], name


def test_the_same_post_with_the_token_gets_through(cast):
    """The control: the refusal above is the CSRF check, not something else about the requests."""
    browser = signed_in_browser(cast.users["owner"])
    url = f"/w/{cast.workspace.slug}/settings/departments/"
    token = browser.cookies["csrftoken"].value
    before = fingerprint()
    refused = browser.post(url, {"name": "Colouring"})
    assert refused.status_code == 403
    assert changed(before, fingerprint()) == []
    accepted = browser.post(url, {"name": "Colouring"}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 302
    assert cast.workspace.departments.filter(name="Colouring").exists()
    # The fingerprint sees the write it is there to catch.
    assert "business_department" in changed(before, fingerprint())


def test_the_login_form_needs_the_token_too(cast):
    """Login CSRF: another site must not sign a visitor in to an account of its choosing."""
    from conftest import PASSWORD

    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/accounts/login/", {"email": cast.users["agent"].email, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session


def test_a_post_from_another_origin_is_refused_even_with_the_token(cast):
    browser = signed_in_browser(cast.users["owner"])
    token = browser.cookies["csrftoken"].value
    before = fingerprint()
    response = browser.post(
        f"/w/{cast.workspace.slug}/settings/departments/",
        {"name": "Colouring"},
        HTTP_X_CSRFTOKEN=token,
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert changed(before, fingerprint()) == []


@pytest.mark.parametrize("name", ["hooks:receive", "hooks:chat_session", "hooks:chat_messages"])
def test_exempt_endpoints_do_nothing_for_a_session_alone(cast, name):
    """A signed-in member's cookies give the exempt endpoints nothing: without a signature or a widget's
    key and visitor token they refuse, and write nothing."""
    mine, _theirs = sample_objects(cast)
    browser = signed_in_browser(cast.users["owner"])
    url = {
        "hooks:receive": f"/hooks/{mine['channel']}/",
        "hooks:chat_session": "/hooks/chat/no-such-key/session",
        "hooks:chat_messages": "/hooks/chat/no-such-key/messages",
    }[name]
    before = fingerprint()
    response = browser.post(url, json.dumps({"text": "hi"}), content_type="application/json")
    assert 400 <= response.status_code < 500, (name, response.status_code)
    assert changed(before, fingerprint()) == [], name


# --- the API ---------------------------------------------------------------------------------------------


def test_the_api_takes_bearer_tokens_or_the_session_and_nothing_else():
    kinds = sorted(type(auth).__name__ for auth in api.auth)
    assert kinds == ["ApiTokenAuth", "SessionAuth"]
    session = next(auth for auth in api.auth if type(auth).__name__ == "SessionAuth")
    assert session.csrf is True


WRITE_OPS = [(m, p, op) for m, p, op in API_OPS if m in UNSAFE]


@pytest.mark.parametrize("method,path,operation", WRITE_OPS, ids=[f"{m} {p}" for m, p, _ in WRITE_OPS])
def test_session_authenticated_api_writes_need_the_token(cast, method, path, operation):
    mine, _theirs = sample_objects(cast)
    browser = signed_in_browser(cast.users["owner"])
    url = fill_api_path(path, cast.workspace.slug, mine)
    before = fingerprint()
    for headers in ({}, {"HTTP_X_CSRFTOKEN": FORGED_TOKEN}):
        response = browser.generic(method, url, json.dumps({}), content_type="application/json", **headers)
        assert response.status_code == 403, (method, path, response.status_code)
        assert response.json() == {"detail": "CSRF check Failed"}, (method, path)
    assert changed(before, fingerprint()) == [], (method, path)
    # The control: with the token the same request passes the CSRF check (whatever it then answers).
    token = browser.cookies["csrftoken"].value
    response = browser.generic(
        method, url, json.dumps({}), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code != 403 or response.json() != {"detail": "CSRF check Failed"}, (method, path)


def test_bearer_tokens_need_no_csrf_token(cast):
    """A browser never sends the Authorization header on its own, so a token cannot be ridden by another
    site; scripts and integrations use the API without CSRF."""
    _token, raw = account_actions.create_api_token(cast.users["owner"], "ci")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/api/w/{cast.workspace.slug}/departments",
        json.dumps({"name": "Colouring"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 201, response.content
    assert cast.workspace.departments.filter(name="Colouring").exists()
