import pytest

from smmdesk.channels import actions

# Long and distinctive, so finding it anywhere in a page, a response or a log line is a real leak.
TOKEN = "tok-Zq81-secret-value-9f3e"
WEBHOOK = "hook-Kp22-secret-value-77ab"


@pytest.fixture
def channel(cast):
    return actions.create_channel(
        cast.workspace,
        "fake",
        "VK group",
        {"account_id": "salon-vk", "stands_for": "vk", "api_token": TOKEN, "webhook_secret": WEBHOOK},
        actor=cast.users["owner"],
    )


@pytest.fixture
def foreign_channel(cast):
    return actions.create_channel(
        cast.other, "fake", "Rival VK", {"account_id": "rival-vk", "api_token": "rival-token-123456"}
    )
