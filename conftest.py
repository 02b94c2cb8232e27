"""Shared fixtures: a fixed cast per test workspace, so permission tests are one line each."""

from types import SimpleNamespace

import pytest

ROLES = ["owner", "smm_manager", "content_manager", "agent", "viewer"]
PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # PBKDF2 at production strength would make the cast fixtures take seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_after_each_test():
    # A request in another language leaves that language active in the thread (LocaleMiddleware
    # activates it and nothing resets it), so the next test would read Slovak or Russian messages.
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_fake_network():
    from smmdesk.channels.fake.adapter import FakeNetwork

    FakeNetwork.reset()
    yield
    FakeNetwork.reset()


def make_workspace(slug: str, name: str, roles=ROLES):
    from smmdesk.accounts.models import Membership, User, Workspace
    from smmdesk.business.models import BusinessProfile

    workspace = Workspace.objects.create(slug=slug, name=name)
    BusinessProfile.objects.create(
        workspace=workspace,
        name=name,
        city="Orenburg",
        districts=["Leninsky"],
        languages=["ru", "en"],
        timezone="Asia/Yekaterinburg",
    )
    users = {}
    for role in roles:
        user = User.objects.create_user(
            f"{role}@{slug}.example", PASSWORD, name=role.replace("_", " ").title()
        )
        Membership.objects.create(user=user, workspace=workspace, role=role)
        users[role] = user
    return workspace, users


@pytest.fixture
def cast(db):
    """A workspace with one person per role, and an outsider who owns another workspace."""
    workspace, users = make_workspace("salon", "Salon Leninsky")
    other, other_users = make_workspace("rival", "Rival Salon", roles=["owner"])
    return SimpleNamespace(workspace=workspace, users=users, other=other, outsider=other_users["owner"])


@pytest.fixture
def login(client):
    """login(user) signs the test client in as that user and returns the client."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def mock_api(settings):
    """A local server playing a network's API (smmdesk.channels.testing); private addresses allowed so
    the SSRF guard lets the adapter reach it on loopback."""
    from smmdesk.channels.testing import MockAPI

    settings.SMMDESK_ALLOW_PRIVATE_URLS = True
    api = MockAPI()
    yield api
    api.stop()


@pytest.fixture
def no_backoff(monkeypatch):
    """lib/http's retry waits, recorded instead of slept (tests never sleep on the wall clock)."""
    from smmdesk.lib import http

    waits: list[float] = []
    monkeypatch.setattr(http, "_sleep", waits.append)
    return waits
