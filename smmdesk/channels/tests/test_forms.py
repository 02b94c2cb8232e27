"""The settings form is generated from an adapter's typed config."""

from typing import Literal

import pytest
from django import forms
from pydantic import BaseModel, Field, HttpUrl, SecretStr

from smmdesk.channels import registry
from smmdesk.channels.base import AccountInfo, Adapter, Capability, PostLimits
from smmdesk.channels.fake.adapter import FakeAdapter
from smmdesk.channels.forms import build_form_class, initial_for

from .conftest import TOKEN


class RichConfig(BaseModel):
    base_url: HttpUrl = Field(HttpUrl("https://api.example.org"), title="Server", description="API address.")
    feed_url: str = Field("", title="Feed")
    group_id: int = Field(ge=1, le=10**12, title="Group id", description="Numeric id of the group.")
    retries: int = Field(3, gt=0, lt=10)
    moderate: bool = Field(False, title="Hide spam")
    mode: Literal["a", "b"] = "a"
    bot_token: SecretStr = Field(max_length=200, title="Bot token", description="From the bot settings.")
    label: str = Field(max_length=20, title="Label")


class RichAdapter(Adapter):
    kind = "rich"
    label = "Rich test network"
    Config = RichConfig
    capabilities = frozenset({Capability.PUBLISH})
    limits = PostLimits(max_text=100)

    def check(self):
        return AccountInfo("1", "rich")


@pytest.fixture
def rich(monkeypatch):
    monkeypatch.setitem(registry.ADAPTERS, "rich", RichAdapter)
    return RichAdapter


def test_field_types_follow_the_config(rich):
    form = build_form_class(rich)()
    f = form.fields
    assert list(f) == [
        "name",
        "base_url",
        "feed_url",
        "group_id",
        "retries",
        "moderate",
        "mode",
        "bot_token",
        "label",
    ]
    assert isinstance(f["base_url"], forms.URLField) and f["base_url"].initial == "https://api.example.org/"
    assert isinstance(f["feed_url"], forms.URLField) and not f["feed_url"].required
    assert isinstance(f["group_id"], forms.IntegerField) and f["group_id"].required
    assert (f["group_id"].min_value, f["group_id"].max_value) == (1, 10**12)
    assert (f["retries"].min_value, f["retries"].max_value) == (1, 9)
    assert isinstance(f["moderate"], forms.BooleanField) and not f["moderate"].required
    assert isinstance(f["mode"], forms.ChoiceField) and [v for v, _ in f["mode"].choices] == ["a", "b"]
    assert isinstance(f["label"], forms.CharField) and f["label"].max_length == 20
    assert isinstance(f["bot_token"].widget, forms.PasswordInput) and f["bot_token"].required
    assert f["bot_token"].widget.render_value is False
    assert str(f["group_id"].label) == "Group id"
    assert str(f["group_id"].help_text) == "Numeric id of the group."
    assert str(f["retries"].label) == "Retries"  # no title: made from the field name


def test_fake_form_has_name_and_config_fields():
    form = build_form_class(FakeAdapter)()
    assert list(form.fields) == ["name", "account_id", "stands_for", "api_token", "webhook_secret"]
    assert form.fields["account_id"].max_length == 64
    assert not form.fields["webhook_secret"].required
    assert "revoked" in str(form.fields["api_token"].help_text)


def test_edit_form_keeps_secrets_blank_and_says_so(channel):
    form_class = build_form_class(FakeAdapter, channel)
    form = form_class(initial=initial_for(channel))
    assert not form.fields["api_token"].required
    assert "leave blank to keep it" in str(form.fields["api_token"].help_text)
    assert "webhook_secret__clear" in form.fields  # optional and set: it can be removed
    html = form.as_div()
    assert TOKEN not in html and "salon-vk" in html
    assert "api_token" not in initial_for(channel)


def test_edit_form_offers_no_clear_for_unset_optional_secret(cast):
    from smmdesk.channels import actions

    channel = actions.create_channel(
        cast.workspace, "fake", "TG", {"account_id": "tg", "api_token": "tg-token-1"}
    )
    assert "webhook_secret__clear" not in build_form_class(FakeAdapter, channel)().fields


def test_config_named_name_is_refused():
    class Bad(BaseModel):
        name: str

    class BadAdapter(FakeAdapter):
        Config = Bad

    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        build_form_class(BadAdapter)


def test_form_values_are_typed(rich):
    form = build_form_class(rich)(
        {
            "name": "R",
            "base_url": "",
            "group_id": "42",
            "retries": "",
            "moderate": "on",
            "mode": "b",
            "bot_token": " abc ",
            "label": "x",
        }
    )
    assert form.is_valid(), form.errors
    values = form.config_values()
    assert values["group_id"] == 42 and values["moderate"] is True and values["bot_token"] == "abc"
    assert values["retries"] == 3  # blank optional → its default
    assert str(values["base_url"]) == "https://api.example.org/"


def test_choice_labels_come_from_the_adapter():
    choices = dict(build_form_class(FakeAdapter)().fields["stands_for"].choices)
    assert str(choices["vk"]) == "VK" and str(choices["other"]) == "Other"
