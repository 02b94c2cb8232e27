"""Canned replies: filling in the variables safely and in the customer's language, and their settings
pages (everyone in the inbox reads them, managers change them)."""

from datetime import time

import pytest
from django.urls import reverse

from smmdesk.business.hours import END_OF_DAY
from smmdesk.business.models import BusinessProfile, OpeningHours
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.inbox import canned
from smmdesk.inbox.canned import opening_hours_text, render_canned, render_text
from smmdesk.inbox.models import CannedReply, Conversation, Customer, CustomerIdentity

pytestmark = pytest.mark.django_db
ROLES = ["owner", "smm_manager", "content_manager", "agent", "viewer"]
MANAGERS = {"owner", "smm_manager"}


def url(name, slug="salon", **kwargs):
    return reverse(f"inbox:{name}", kwargs={"slug": slug, **kwargs})


@pytest.fixture
def channel(cast):
    channel = Channel(workspace=cast.workspace, kind="fake", name="VK")
    channel.store_config(FakeConfig(account_id="acc", api_token="token-123456"))
    channel.save()
    return channel


def conversation_with(channel, *, name="Анна", language="ru", handle=""):
    customer = Customer.objects.create(workspace=channel.workspace, name=name)
    if handle:
        CustomerIdentity.objects.create(customer=customer, channel=channel, network_id="1", handle=handle)
    return Conversation.objects.create(
        workspace=channel.workspace,
        channel=channel,
        kind="dm",
        thread_key=f"dm:{customer.pk}",
        customer=customer,
        language=language,
    )


def week(workspace, rows):
    for weekday, opens, closes in rows:
        OpeningHours.objects.create(workspace=workspace, weekday=weekday, opens=opens, closes=closes)


SALON_WEEK = [
    *[(day, time(9), time(20)) for day in range(5)],
    (5, time(10), time(14)),
    (5, time(15), time(18)),
]


# --- rendering -----------------------------------------------------------------------------------------


def test_variables_are_filled_in(cast, channel):
    week(cast.workspace, SALON_WEEK)
    reply = CannedReply(
        workspace=cast.workspace,
        title="Hi",
        text="Здравствуйте, {customer_name}! {business_name} работает: {opening_hours}.",
    )
    text = render_canned(reply, conversation_with(channel))
    # Sunday's word for "closed" depends on the catalogue; the rest is fixed.
    assert text.startswith("Здравствуйте, Анна! Salon Leninsky работает: Пн–Пт 09:00–20:00; ")
    assert "Сб 10:00–14:00, 15:00–18:00; Вс " in text


@pytest.mark.parametrize(
    "language,expected",
    [
        ("ru", "Пн–Пт 09:00–20:00; Сб 10:00–14:00, 15:00–18:00"),
        ("sk", "po–pi 09:00–20:00; so 10:00–14:00, 15:00–18:00"),
        ("en", "Mon–Fri 09:00–20:00; Sat 10:00–14:00, 15:00–18:00"),
    ],
)
def test_opening_hours_in_the_conversations_language(cast, channel, language, expected):
    week(cast.workspace, SALON_WEEK)
    reply = CannedReply(workspace=cast.workspace, title="Hours", text="{opening_hours}")
    assert render_canned(reply, conversation_with(channel, language=language)).startswith(expected + "; ")


def test_opening_hours_text_groups_days_and_names_closed_ones(cast):
    week(cast.workspace, [(0, time(9), time(18)), (1, time(9), time(18)), (3, time(0), END_OF_DAY)])
    text = opening_hours_text(cast.workspace.pk, "en")
    assert text == "Mon–Tue 09:00–18:00; Wed closed; Thu 00:00–24:00; Fri–Sun closed"


def test_no_opening_hours_promise_nothing(cast):
    assert opening_hours_text(cast.workspace.pk, "en") == ""


def test_language_falls_back_to_the_reply_then_the_profile(cast, channel):
    week(cast.workspace, [(0, time(9), time(18))])
    unknown = conversation_with(channel, language="")
    slovak_reply = CannedReply(workspace=cast.workspace, title="x", text="{opening_hours}", language="sk")
    any_reply = CannedReply(workspace=cast.workspace, title="x", text="{opening_hours}")
    assert render_canned(slovak_reply, unknown).startswith("po 09:00–18:00")
    assert render_canned(any_reply, unknown).startswith("Пн 09:00–18:00")  # the profile speaks ru first


def test_customer_without_a_name_is_called_by_handle(cast, channel):
    reply = CannedReply(workspace=cast.workspace, title="x", text="Hi {customer_name}")
    assert render_canned(reply, conversation_with(channel, name="", handle="@anna_o")) == "Hi @anna_o"
    assert render_canned(reply, conversation_with(channel, name="")) == "Hi "


def test_business_name_comes_from_the_profile(cast, channel):
    BusinessProfile.objects.filter(workspace=cast.workspace).update(name="Салон «Локон»")
    reply = CannedReply(workspace=cast.workspace, title="x", text="{business_name}")
    assert render_canned(reply, conversation_with(channel)) == "Салон «Локон»"


@pytest.mark.parametrize(
    "template",
    [
        "{customer_name.__class__}",
        "{customer_name.__class__.__mro__}",
        "{customer_name!r}",
        "{customer_name:>30}",
        "{0}",
        "{}",
        "{unknown}",
        "{customer_name[0]}",
        "{{customer_name}}",
    ],
)
def test_only_plain_variables_are_replaced(cast, channel, template):
    reply = CannedReply(workspace=cast.workspace, title="x", text=f"Hello {template}!")
    text = render_canned(reply, conversation_with(channel))
    assert "<class" not in text and "Анна" not in text.replace("{Анна}", "")
    if template == "{{customer_name}}":
        assert text == "Hello {Анна}!"
    else:
        assert text == f"Hello {template}!"


def test_values_are_not_substituted_again(cast, channel):
    reply = CannedReply(workspace=cast.workspace, title="x", text="{customer_name} / {business_name}")
    conversation = conversation_with(channel, name="{business_name} {opening_hours.__init__}")
    assert render_canned(reply, conversation) == "{business_name} {opening_hours.__init__} / Salon Leninsky"


def test_render_text_leaves_unknown_names():
    assert render_text("{a} {b}", {"a": "1"}) == "{a} {b}"
    assert render_text("{customer_name}", {"customer_name": "Ольга"}) == "Ольга"


def test_replies_for_a_conversation_prefer_its_language(cast, channel):
    for title, language in (("B any", ""), ("A sk", "sk"), ("C ru", "ru"), ("A ru", "ru")):
        CannedReply.objects.create(workspace=cast.workspace, title=title, text="x", language=language)
    CannedReply.objects.create(workspace=cast.other, title="Theirs", text="x")
    titles = [r.title for r in canned.replies_for(conversation_with(channel, language="ru"))]
    assert titles == ["A ru", "C ru", "B any"]


# --- settings pages ------------------------------------------------------------------------------------


@pytest.fixture
def a_reply(cast):
    return CannedReply.objects.create(
        workspace=cast.workspace, title="Greeting", text="Здравствуйте, {customer_name}!", language="ru"
    )


@pytest.mark.parametrize("role", ROLES)
def test_everyone_reads_only_managers_write(cast, login, a_reply, role):
    client = login(cast.users[role])
    listing = client.get(url("canned_replies"))
    detail = client.get(url("canned_reply_edit", reply_id=a_reply.pk))
    assert listing.status_code == detail.status_code == 200
    assert "Greeting" in listing.content.decode()
    can_edit = role in MANAGERS
    assert listing.context["can_edit"] is can_edit
    assert all(field.disabled for field in detail.context["form"].fields.values()) is not can_edit
    new = {"title": "New", "text": "Добрый день!", "language": "ru"}
    created = client.post(url("canned_replies"), new).status_code
    edited = client.post(url("canned_reply_edit", reply_id=a_reply.pk), new).status_code
    deleted = client.post(url("canned_reply_delete", reply_id=a_reply.pk)).status_code
    if can_edit:
        assert (created, edited, deleted) == (302, 302, 302)
        assert list(CannedReply.objects.values_list("title", flat=True)) == ["New"]
    else:
        assert (created, edited, deleted) == (403, 403, 403)
        assert list(CannedReply.objects.values_list("title", flat=True)) == ["Greeting"]


def test_outsider_and_other_workspace(cast, login, a_reply):
    assert login(cast.outsider).get(url("canned_reply_edit", reply_id=a_reply.pk)).status_code == 404
    theirs = CannedReply.objects.create(workspace=cast.other, title="Theirs", text="x")
    client = login(cast.users["owner"])
    assert client.get(url("canned_reply_edit", reply_id=theirs.pk)).status_code == 404
    assert client.post(url("canned_reply_delete", reply_id=theirs.pk)).status_code == 404
    assert "Theirs" not in client.get(url("canned_replies")).content.decode()


def test_manager_adds_and_edits(cast, login):
    client = login(cast.users["smm_manager"])
    response = client.post(
        url("canned_replies"), {"title": " Hours ", "text": "We open: {opening_hours}", "language": "en"}
    )
    assert response.status_code == 302
    reply = CannedReply.objects.get()
    assert (reply.workspace, reply.title, reply.language) == (cast.workspace, "Hours", "en")
    client.post(
        url("canned_reply_edit", reply_id=reply.pk), {"title": "Hours", "text": "Closed", "language": ""}
    )
    reply.refresh_from_db()
    assert (reply.text, reply.language) == ("Closed", "")


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"title": "", "text": "x"}, "title", "required"),
        ({"title": "T", "text": ""}, "text", "required"),
        ({"title": "T", "text": "Hi {name}"}, "text", "{name} is not a variable"),
        ({"title": "T", "text": "Hi {customer_name.__class__}"}, "text", "is not a variable"),
        ({"title": "T", "text": "x" * 4001}, "text", "at most 4000"),
        ({"title": "T", "text": "x", "language": "de"}, "language", "valid choice"),
    ],
)
def test_bad_input_is_refused_by_field(cast, login, data, field, message):
    response = login(cast.users["owner"]).post(url("canned_replies"), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not CannedReply.objects.exists()


def test_replies_are_escaped_on_the_page(cast, login):
    CannedReply.objects.create(workspace=cast.workspace, title="<b>x</b>", text="<script>alert(1)</script>")
    page = login(cast.users["viewer"]).get(url("canned_replies")).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
