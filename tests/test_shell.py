"""The UI shell, health endpoint and security headers."""

import pytest
from django.test import override_settings

from smmdesk.core.sections import SECTIONS


@pytest.mark.dbqueue
def test_healthz_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "queue": "ok"}


def test_healthz_names_failing_queue(client, db, monkeypatch):
    from huey.contrib.djhuey import HUEY

    def broken():
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(HUEY.storage, "queue_size", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "queue": "queue unreachable: Connection refused"}


def test_healthz_names_failing_database(client, db, monkeypatch):
    from smmdesk.lib import health

    monkeypatch.setattr(health, "connections", {"default": None})
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["queue"] == "ok" and body["database"].startswith("database unreachable")


def test_navigation_lists_every_section(cast, login):
    page = login(cast.users["viewer"]).get("/w/salon/").content.decode()
    for key, label, _ in SECTIONS:
        assert f'href="/w/salon/{key}/"' in page and str(label) in page
    # Every member may read the business profile; only managers see the members tab.
    assert 'href="/w/salon/settings/"' in page
    settings_page = login(cast.users["viewer"]).get("/w/salon/settings/").content.decode()
    assert "/members/" not in settings_page


def test_unbuilt_section_says_so(cast, login):
    from smmdesk.core.sections import BUILT

    unbuilt = next((key for key, _label, _text in SECTIONS if key not in BUILT), None)
    if unbuilt is None:
        pytest.skip("every section is built (ads was the last)")
    page = login(cast.users["agent"]).get(f"/w/salon/{unbuilt}/")
    assert page.status_code == 200
    assert "This section is not built yet." in page.content.decode()


@pytest.mark.parametrize("language,word", [("ru", "Входящие"), ("sk", "Doručená pošta")])
def test_navigation_translated(cast, client, language, word):
    user = cast.users["agent"]
    user.language = language
    user.save()
    client.force_login(user)
    page = client.get("/w/salon/").content.decode()
    assert word in page and f'lang="{language}"' in page


def test_security_headers(client, db):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_csrf_enforced(cast, db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cast.users["owner"])
    assert strict.post("/accounts/me/tokens/", {"name": "x"}).status_code == 403


@override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True)
def test_secure_cookies_setting_applies(cast, client):
    from conftest import PASSWORD

    response = client.post("/accounts/login/", {"email": cast.users["agent"].email, "password": PASSWORD})
    assert response.cookies["sessionid"]["secure"]


def test_customer_text_is_escaped(cast, login):
    cast.workspace.name = '<script>alert("x")</script>'
    cast.workspace.save()
    page = login(cast.users["agent"]).get("/w/salon/").content.decode()
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(
    "body,status",
    [('{"name": "\\ud800"}', 422), ('{"name": "a\\u0000b"}', 422), ('{"name": ', 400), ("[[[[[[[[", 400)],
)
def test_api_refuses_unstorable_json(cast, login, body, status):
    client = login(cast.users["owner"])
    response = client.put("/api/w/salon/profile", body, content_type="application/json")
    assert response.status_code == status
    if status == 422:
        assert response.json()["errors"][0]["field"] == "name"
    cast.workspace.profile.refresh_from_db()
    assert cast.workspace.profile.name == "Salon Leninsky"


@pytest.mark.parametrize(
    "path", ["/static/smmdesk/app.css", "/static/smmdesk/app.js", "/static/django_htmx/htmx-2.min.js"]
)
def test_static_files_are_served(client, path):
    # Every page links these; a missing one leaves the product unstyled or without HTMX.
    response = client.get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content])
