"""Every POST form of every page, submitted with hostile values: each page of the URL conf is opened as the
owner (with one object of every kind in the workspace), its POST forms (and htmx posts) are read from the
HTML, and each form is sent four times, poisoned one way at a time (forms.POISONS): NUL in every text,
hidden and select field; 100,000 characters; RTL/ZWJ/combining text with a formula; numbers past 64 bits
and dates past year 9999. The answer may be anything but a server error, and nothing PostgreSQL cannot
store may be stored (on SQLite it would be, silently).

A form that appears on many pages (the language switch) is sent from the first page only.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.hostile.conftest import unstorable_rows
from tests.hostile.forms import POISONS, forms_by_target
from tests.test_permissions import WORKSPACE_ROUTES, build

pytestmark = [pytest.mark.django_db, pytest.mark.dbqueue]

# Sent once per run; the key is the target's URL name and the form's field names.
SENT: set[tuple] = set()
# Logging out would end the session the rest of the page's forms are sent in.
SKIPPED = {"accounts:logout"}
ACCOUNT_PAGES = ["/accounts/me/", "/accounts/me/password/", "/accounts/workspaces/new/"]
ANONYMOUS_PAGES = ["/accounts/login/", "/accounts/password-reset/"]


def send_every_form(client: Client, url: str, user=None) -> int:
    page = client.get(url)
    if page.status_code != 200 or not page["Content-Type"].startswith("text/html"):
        return 0
    sent = 0
    for name, form in forms_by_target(page.content.decode(), url):
        key = (name, form.signature[1])
        if name in SKIPPED or key in SENT:
            continue
        SENT.add(key)
        for poison_name, poison in POISONS.items():
            response = client.post(form.action, form.data(poison))
            assert response.status_code < 500, (name, poison_name, response.status_code)
            assert unstorable_rows() == [], (name, poison_name)
            if (
                user is not None
                and response.status_code == 302
                and "/accounts/login/" in response["Location"]
            ):
                client.force_login(user)  # a form that ended the session (changed the password)
        sent += 1
    return sent


@pytest.mark.parametrize("route,pattern,name", WORKSPACE_ROUTES, ids=[n for _r, _p, n in WORKSPACE_ROUTES])
def test_every_form_of_the_page(owner, world, route, pattern, name):
    url = build(route, name, world.cast.workspace.slug, world.mine)
    send_every_form(owner, url, world.cast.users["owner"])


@pytest.mark.parametrize("url", ACCOUNT_PAGES)
def test_every_form_of_the_account_pages(owner, world, url):
    send_every_form(owner, url, world.cast.users["owner"])


@pytest.mark.parametrize("url", ANONYMOUS_PAGES)
def test_every_form_of_the_public_pages(db, world, clock, url):
    assert send_every_form(Client(raise_request_exception=True), url) >= 1


def test_the_forms_were_found():
    """The crawl above is only as good as what it finds: the forms it must have reached."""
    names = {name for name, _fields in SENT}
    expected = {
        *("inbox:reply", "inbox:note", "inbox:assign", "inbox:status", "inbox:rule_edit", "inbox:rules"),
        *("publishing:post_new", "publishing:post_edit", "publishing:import", "listening:terms"),
        *(
            "listening:source_edit",
            "publishing:preview",
            "contests:new",
            "contests:edit",
            "audience:segment_new",
        ),
        *("keywords:negative_add", "keywords:landmark_add", "sites:editor", "ads:new_targeting"),
        *("business:profile", "business:services", "business:departments", "channels:add_kind"),
        *("accounts:members", "accounts:token_create", "accounts:login", "accounts:password_reset"),
    }
    if len(SENT) < 10:
        pytest.skip("run with the crawl tests above (this one checks what they reached)")
    assert expected <= names, sorted(expected - names)
