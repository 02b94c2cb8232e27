"""A local Bot API for the Telegram tests: the shared MockAPI server, answering /bot<token>/<method> with
payloads shaped like core.telegram.org/bots/api (saved under fixtures/)."""

import json
from pathlib import Path

import pytest
from django.core.cache import cache

from smmdesk.channels.telegram import adapter as telegram

FIXTURES = Path(__file__).parent / "fixtures"
# Long and distinctive, so finding it in an error or a log line is a real leak.
TOKEN = "7012345678:AAF-tok-Zq81-secret-value-9f3e"
SECRET = "hook_Kp22-secret-value-77ab"
CHANNEL = "@salon_news"
CHANNEL_ID = -1001500000001
BOT_ID = 7012345678


def update(name: str) -> dict:
    return json.loads((FIXTURES / "updates" / f"{name}.json").read_text())


def api_answer(name: str) -> dict:
    return json.loads((FIXTURES / "api" / f"{name}.json").read_text())


class BotAPI:
    """Scripted answers per Bot API method on the shared local server; every call is kept."""

    def __init__(self, mock_api, token: str = TOKEN):
        self.server = mock_api
        self.base = mock_api.base
        self.prefix = f"/bot{token}/"

    def answer(self, method: str, *answers, headers=None):
        """Answers in turn (fixture names, dicts, or callables taking the request's JSON); the last one
        repeats. The HTTP status is the body's error_code, as Telegram sends it."""
        queue = list(answers)

        def handler(request):
            item = queue.pop(0) if len(queue) > 1 else queue[0]
            if callable(item):
                item = item(request.json())
            body = api_answer(item) if isinstance(item, str) else item
            status = 200 if body.get("ok") else body.get("error_code", 400)
            return status, dict(headers or {}), body

        self.server.route("POST", self.prefix + method)(handler)

    def calls(self, method: str) -> list[dict]:
        return [r.json() for r in self.server.calls("POST", self.prefix + method)]

    def channel_posts(self):
        """sendMessage into the channel as a real channel would: a new message id per post."""
        posts: list[dict] = []

        def send(params):
            posts.append(params)
            result = api_answer("sendMessage_channel")
            result["result"].update(message_id=100 + len(posts), text=params["text"])
            return result

        self.answer("sendMessage", send)
        return posts


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # The client-side limiter counts in the cache, which outlives a test in this process.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pauses(monkeypatch):
    """The client-side rate limiter's waits, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr(telegram, "_pause", waited.append)
    return waited


@pytest.fixture
def bot(mock_api, pauses):
    api = BotAPI(mock_api)
    api.answer("getMe", "getMe")
    return api


@pytest.fixture
def values(bot):
    return {"bot_token": TOKEN, "channel_chat_id": CHANNEL, "webhook_secret": SECRET, "api_url": bot.base}


@pytest.fixture
def make_adapter(values):
    def make(**changes):
        return telegram.TelegramAdapter(telegram.TelegramConfig(**{**values, **changes}))

    return make


@pytest.fixture
def adapter(make_adapter):
    return make_adapter()
