"""Sessions and login: lockout after repeated failures, a new session key at every login (no session
fixation), other sessions signed out by a password change or reset, nothing left after logout, and the
cookies' flags.

The lockout's per-e-mail counting and its window are in smmdesk/accounts/tests/test_accounts.py; these
add the per-address side and what the lockout means for a person who knows the password.
"""

import json
import os
import re
import subprocess
import sys

from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.test import Client

from conftest import PASSWORD
from smmdesk.accounts.models import AuditEvent

NEW_PASSWORD = "a-new-Long-pass-42"


def log_in(client: Client, user, password: str = PASSWORD, **extra):
    return client.post("/accounts/login/", {"email": user.email, "password": password}, **extra)


def is_signed_in(client: Client) -> bool:
    return client.get("/accounts/me/").status_code == 200


def test_one_address_is_locked_out_after_failures_on_different_accounts(cast, settings):
    """Guessing one password across many accounts from one address is throttled too, and the lockout holds
    even for a person who then types the right password from that address."""
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(settings.LOGIN_THROTTLE_LIMIT):
        assert (
            attacker.post("/accounts/login/", {"email": f"guess{n}@example.com", "password": "x"}).status_code
            == 400
        )
    response = log_in(attacker, cast.users["viewer"])
    assert response.status_code == 400
    assert "Too many failed attempts" in response.content.decode()
    assert not is_signed_in(attacker)
    # The person's own address is not the attacker's: they still get in.
    person = Client(REMOTE_ADDR="198.51.100.20")
    assert log_in(person, cast.users["viewer"]).status_code == 302
    assert is_signed_in(person)


def test_a_locked_out_account_stays_locked_from_any_address(cast, settings):
    target = cast.users["agent"]
    for n in range(settings.LOGIN_THROTTLE_LIMIT):
        Client(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
            "/accounts/login/", {"email": target.email, "password": "wrong"}
        )
    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    response = log_in(elsewhere, target)
    assert response.status_code == 400 and "Too many failed attempts" in response.content.decode()
    assert not is_signed_in(elsewhere)
    failures = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED, email=target.email)
    assert failures.count() == settings.LOGIN_THROTTLE_LIMIT + 1
    assert failures.filter(detail__reason="throttled").count() == 1


def test_the_session_key_changes_at_login(cast):
    """A session planted before login (session fixation) is not the one that ends up signed in."""
    client = Client()
    planted = client.session
    planted["planted"] = True
    planted.save()
    client.cookies["sessionid"] = planted.session_key
    assert log_in(client, cast.users["agent"]).status_code == 302
    assert client.cookies["sessionid"].value != planted.session_key
    assert is_signed_in(client)
    # The planted key no longer exists: whoever holds it holds nothing.
    assert not SessionStore().exists(planted.session_key)
    stale = Client()
    stale.cookies["sessionid"] = planted.session_key
    assert not is_signed_in(stale)


def test_logging_in_again_as_someone_else_starts_a_new_session(cast):
    client = Client()
    log_in(client, cast.users["agent"])
    first = client.cookies["sessionid"].value
    log_in(client, cast.users["viewer"])
    assert client.cookies["sessionid"].value != first
    assert not SessionStore().exists(first)


def test_a_password_change_signs_out_the_other_sessions_and_keeps_this_one(cast):
    user = cast.users["content_manager"]
    laptop, phone = Client(), Client()
    log_in(laptop, user)
    log_in(phone, user)
    before = laptop.cookies["sessionid"].value
    response = laptop.post(
        "/accounts/me/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert is_signed_in(laptop)
    # The session that changed the password gets a new key as well.
    assert laptop.cookies["sessionid"].value != before
    assert not is_signed_in(phone)


def test_a_password_reset_signs_out_every_session(cast):
    user = cast.users["viewer"]
    signed_in = Client()
    log_in(signed_in, user)
    resetting = Client()
    resetting.post("/accounts/password-reset/", {"email": user.email})
    link = re.search(r"https?://[^/]+(/accounts/password-reset/\S+)", mail.outbox[0].body).group(1)
    form = resetting.get(link, follow=True)
    response = resetting.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert not is_signed_in(signed_in)
    assert log_in(Client(), user, NEW_PASSWORD).status_code == 302


def test_logout_destroys_the_session_on_the_server(cast):
    client = Client()
    log_in(client, cast.users["agent"])
    key = client.cookies["sessionid"].value
    assert client.post("/accounts/logout/").status_code == 302
    assert not SessionStore().exists(key)
    replay = Client()
    replay.cookies["sessionid"] = key
    assert not is_signed_in(replay)


def test_a_deactivated_person_is_signed_out_at_the_next_request(cast):
    user = cast.users["agent"]
    client = Client()
    log_in(client, user)
    user.is_active = False
    user.save()
    assert not is_signed_in(client)


def test_session_and_csrf_cookies_are_out_of_reach_of_scripts_and_other_sites(cast, settings):
    client = Client()
    response = log_in(client, cast.users["agent"])
    session = response.cookies["sessionid"]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    page = client.get("/accounts/me/")
    assert page.cookies["csrftoken"]["samesite"] == "Lax"


def test_smmdesk_https_makes_the_cookies_secure_and_turns_on_hsts(tmp_path):
    """The settings module as the server loads it, in a fresh interpreter, with SMMDESK_HTTPS set."""
    script = (
        "import json; from django.conf import settings as s; print(json.dumps([s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.LANGUAGE_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMMDESK_")}
    env.update(DJANGO_SETTINGS_MODULE="smmdesk.settings", SMMDESK_DATA_DIR=str(tmp_path), SMMDESK_HTTPS="1")
    env["SMMDESK_ALLOWED_HOSTS"] = "desk.example"
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [True, True, True, True, 31536000]


def test_sessions_are_read_from_redis_only_when_every_process_shares_it(tmp_path):
    """With REDIS_URL the session is read from the shared cache (written through to the database); without
    it, from the database, since a per-process cache would keep a signed-out session alive elsewhere."""
    script = "from django.conf import settings as s; print(s.SESSION_ENGINE)"
    engines = []
    for redis in ("redis://127.0.0.1:6379/15", ""):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMMDESK_") and k != "REDIS_URL"}
        env.update(DJANGO_SETTINGS_MODULE="smmdesk.settings", SMMDESK_DATA_DIR=str(tmp_path))
        if redis:
            env["REDIS_URL"] = redis
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        engines.append(result.stdout.strip().splitlines()[-1])
    assert engines == ["django.contrib.sessions.backends.cached_db", "django.contrib.sessions.backends.db"]
