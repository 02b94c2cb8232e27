import pytest

from smmdesk.channels.email import adapter as email_adapter
from smmdesk.channels.email.tests.servers import PASSWORD, USER, CuttingProxy, Pymap, Relay


@pytest.fixture
def allow_loopback(settings):
    # The servers listen on 127.0.0.1, which the address guard refuses for member-typed host names.
    settings.SMMDESK_ALLOW_PRIVATE_URLS = True


@pytest.fixture(autouse=True)
def no_rate_sleep(monkeypatch):
    """The client-side rate limit's waits, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(email_adapter, "_sleep", waits.append)
    return waits


@pytest.fixture
def imap_server(allow_loopback):
    server = Pymap()
    yield server
    server.stop()


@pytest.fixture
def relay(allow_loopback):
    server = Relay()
    yield server
    server.stop()


@pytest.fixture
def proxy(imap_server):
    server = CuttingProxy(imap_server.port)
    yield server
    server.stop()


def mailbox_config(imap_port: int, smtp_port: int, **changes) -> dict:
    values = {
        "from_address": USER,
        "from_name": "Salon Leninsky",
        "imap_host": "127.0.0.1",
        "imap_port": imap_port,
        "imap_security": "none",
        "username": USER,
        "password": PASSWORD,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "history_days": 30,
    }
    values.update(changes)
    return values


@pytest.fixture
def config(imap_server, relay):
    return mailbox_config(imap_server.port, relay.port)


@pytest.fixture
def adapter(config):
    return email_adapter.EmailAdapter(email_adapter.EmailConfig(**config), channel_id=None)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # The client-side rate limit counts in the cache; each test starts with a full budget.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
