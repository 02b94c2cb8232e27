"""VK outbound: replies (wall.createComment from the community, messages.send with random_id), publishing
to the community wall exactly once (guid, and through the ledger), moderation, metrics and contest
entries, all against the local VK server."""

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.channels import ledger
from smmdesk.channels.base import AdapterError, ExternalRef, OutboundReply, PostVariant
from smmdesk.channels.models import PublishRecord
from smmdesk.channels.vk.adapter import random_id
from smmdesk.channels.vk.tests.conftest import COMMUNITY, GROUP, USER, delivery
from smmdesk.inbox import actions as inbox_actions
from smmdesk.inbox.models import Message

THREAD = f"wall-{GROUP}_120"

# --- replies --------------------------------------------------------------------------------------------


def test_comment_reply_comes_from_the_community_under_the_comment(vk, make_adapter):
    reply = OutboundReply(
        text="Окрашивание от 3000 ₽.", thread_id=THREAD, reply_to_id=f"{THREAD}_r77", idempotency_key="r-1"
    )
    ref = make_adapter().send_reply(reply)
    [call] = vk.calls("wall.createComment")
    assert call["owner_id"] == f"-{GROUP}" and call["post_id"] == "120"
    assert call["from_group"] == str(GROUP) and call["reply_to_comment"] == "77"
    assert call["message"] == "Окрашивание от 3000 ₽." and call["access_token"] == COMMUNITY
    assert ref.external_id == f"{THREAD}_r{next(iter(vk.comments))}"
    assert ref.url == f"https://vk.com/{THREAD}?reply={next(iter(vk.comments))}" and ref.parent_id == THREAD


def test_a_retried_comment_reply_posts_once(vk, make_adapter):
    reply = OutboundReply(text="Ждём вас!", thread_id=THREAD, idempotency_key="reply-7")
    first = make_adapter().send_reply(reply)
    second = make_adapter().send_reply(reply)
    assert first == second
    assert len(vk.comments) == 1
    assert len({c["guid"] for c in vk.calls("wall.createComment")}) == 1


def test_message_reply_uses_a_stable_int32_random_id(vk, make_adapter):
    reply = OutboundReply(
        text="Да, на 12:00 есть место.", thread_id="5551001", reply_to_id="m5551001_41", idempotency_key="k-9"
    )
    first = make_adapter().send_reply(reply)
    second = make_adapter().send_reply(reply)
    assert first == second == ExternalRef("m5551001_42", f"https://vk.com/gim{GROUP}?sel=5551001", "5551001")
    assert len(vk.messages) == 1  # VK never delivers the same random_id twice
    calls = vk.calls("messages.send")
    assert {c["random_id"] for c in calls} == {str(random_id(GROUP, "k-9"))}
    assert calls[0]["peer_ids"] == "5551001"
    assert '"conversation_message_ids": [41]' in calls[0]["forward"]


def test_random_ids_fit_int32_and_differ_per_key():
    ids = {random_id(GROUP, f"key-{n}") for n in range(5000)}
    assert len(ids) == 5000
    assert all(0 < i <= 2**31 - 1 for i in ids)
    assert random_id(GROUP, "a") == random_id(GROUP, "a") != random_id(GROUP + 1, "a")


def test_a_refused_message_is_a_permanent_error(vk, make_adapter):
    vk.blocked.add(5551002)
    with pytest.raises(AdapterError) as failed:
        make_adapter().send_reply(
            OutboundReply(text="Здравствуйте", thread_id="5551002", idempotency_key="x")
        )
    assert failed.value.permanent and "901" in failed.value.message


def test_a_reply_without_a_known_thread_is_refused(make_adapter):
    with pytest.raises(AdapterError) as failed:
        make_adapter().send_reply(OutboundReply(text="?", thread_id="post:xyz"))
    assert failed.value.permanent


# --- publishing -----------------------------------------------------------------------------------------


def test_publish_posts_on_the_community_wall_from_the_community(vk, make_adapter):
    ref = make_adapter().publish(PostVariant(text="Скидка 20% до конца недели!"), "post-1")
    [post_id] = vk.posts
    assert (
        ref.external_id == f"wall-{GROUP}_{post_id}" and ref.url == f"https://vk.com/wall-{GROUP}_{post_id}"
    )
    [call] = vk.calls("wall.post")
    assert call["owner_id"] == f"-{GROUP}" and call["from_group"] == "1"
    assert call["access_token"] == USER and call["message"] == "Скидка 20% до конца недели!"
    assert len(call["guid"]) == 32


def test_the_same_key_twice_gives_one_post(vk, make_adapter):
    variant = PostVariant(text="Розыгрыш!")
    first = make_adapter().publish(variant, "post-2")
    second = make_adapter().publish(variant, "post-2")
    assert first == second
    assert len(vk.posts) == 1 and len(vk.calls("wall.post")) == 2
    assert make_adapter().publish(variant, "post-3") != first


def test_ledger_publishes_once_per_key(vk, vk_channel):
    variant = PostVariant(text="Новая услуга: ламинирование")
    first = ledger.publish_once(vk_channel, variant, "cal-17")
    assert ledger.publish_once(vk_channel, variant, "cal-17") == first
    assert len(vk.posts) == 1 and len(vk.calls("wall.post")) == 1
    assert PublishRecord.objects.get(channel=vk_channel, idempotency_key="cal-17").state == "sent"


def test_ledger_after_a_crash_mid_publish_does_not_double_post(vk, vk_channel):
    variant = PostVariant(text="Новая услуга: ламинирование")
    # An attempt posted, then died before recording it.
    vk_channel.adapter().publish(variant, "cal-18")
    PublishRecord.objects.create(channel=vk_channel, idempotency_key="cal-18")
    ref = ledger.publish_once(vk_channel, variant, "cal-18")
    # find_published cannot look a guid up, so the ledger posts again with the same key: VK keeps one post.
    assert len(vk.posts) == 1 and ref.external_id == f"wall-{GROUP}_{next(iter(vk.posts))}"
    assert PublishRecord.objects.get(idempotency_key="cal-18").external_id == ref.external_id


def test_publishing_needs_the_admin_user_token(vk, make_adapter):
    with pytest.raises(AdapterError) as failed:
        make_adapter(user_token=None).publish(PostVariant(text="Привет"), "k")
    assert failed.value.permanent and not failed.value.reconnect
    assert "admin user token" in failed.value.message
    assert vk.calls("wall.post") == []


def test_a_post_over_the_limits_is_refused_before_calling(vk, make_adapter):
    adapter = make_adapter()
    with pytest.raises(AdapterError) as failed:
        adapter.publish(PostVariant(text="x" * (adapter.limits.max_text + 1)), "k")
    assert failed.value.permanent
    with pytest.raises(AdapterError):
        adapter.publish(PostVariant(text="x", media=["photo-1_2"] * 11), "k")
    assert vk.api.requests == []


def test_publish_uploads_images_and_attaches_media_link_and_first_comment(vk, make_adapter):
    variant = PostVariant(
        text="Наши работы",
        media=[f"{vk.api.base}/img/salon.jpg", "video-218000111_456239017"],
        link="https://salon.example/price",
        first_comment="Запись по телефону 8-800",
    )
    ref = make_adapter().publish(variant, "post-media")
    [call] = vk.calls("wall.post")
    assert (
        call["attachments"]
        == "photo-218000111_457239100,video-218000111_456239017,https://salon.example/price"
    )
    assert b"\xff\xd8\xff\xe0jpeg" in vk.uploads[0]
    [comment] = vk.calls("wall.createComment")
    assert (
        comment["post_id"] == ref.external_id.rsplit("_", 1)[1]
        and comment["message"] == "Запись по телефону 8-800"
    )


def test_a_failed_first_comment_leaves_the_publication_done(vk, make_adapter):
    vk.fail("wall.createComment", 213, "Access to status replies denied")
    ref = make_adapter().publish(PostVariant(text="Пост", first_comment="Первый"), "post-fc")
    assert ref.external_id.startswith(f"wall-{GROUP}_") and len(vk.posts) == 1


def test_media_that_is_neither_a_vk_id_nor_an_address_is_refused(make_adapter):
    with pytest.raises(AdapterError, match="cannot attach"):
        make_adapter().publish(PostVariant(text="x", media=["/etc/passwd"]), "k")


def test_find_published_has_nothing_to_look_up(make_adapter):
    assert make_adapter().find_published("post-1") is None


# --- moderation, metrics, entries ---------------------------------------------------------------------


def test_delete_comment_with_the_admin_user_token(vk, make_adapter):
    make_adapter().moderate(ExternalRef(f"{THREAD}_r77"), "delete")
    assert vk.deleted == [(-GROUP, 77)]
    assert vk.calls("wall.deleteComment")[0]["access_token"] == USER
    # An edited comment's inbox message deletes the comment itself.
    make_adapter().moderate(ExternalRef(f"{THREAD}_r78~edit~abc123"), "delete")
    assert vk.deleted[-1] == (-GROUP, 78)


def test_hiding_is_not_offered_by_vk(vk, make_adapter):
    with pytest.raises(AdapterError, match="cannot hide") as failed:
        make_adapter().moderate(ExternalRef(f"{THREAD}_r77"), "hide")
    assert failed.value.permanent and vk.api.requests == []
    with pytest.raises(AdapterError, match="not a wall comment"):
        make_adapter().moderate(ExternalRef("m5551001_41"), "delete")


def test_metrics_from_the_post_counters(vk, make_adapter):
    points = make_adapter().metrics(
        [ExternalRef(THREAD), ExternalRef("121"), ExternalRef(f"wall-{GROUP}_999")]
    )
    got = {(p.external_id, p.name): p.value for p in points}
    assert got == {
        (THREAD, "views"): 1840.0,
        (THREAD, "likes"): 3.0,
        (THREAD, "reposts"): 2.0,
        (THREAD, "comments"): 3.0,
        (f"wall-{GROUP}_121", "views"): 310.0,
        (f"wall-{GROUP}_121", "likes"): 5.0,
        (f"wall-{GROUP}_121", "reposts"): 1.0,
        (f"wall-{GROUP}_121", "comments"): 0.0,
    }
    # The deleted post 999 is simply absent; reads use the service key.
    [call] = vk.calls("wall.getById")
    assert call["posts"] == f"-{GROUP}_120,-{GROUP}_121,-{GROUP}_999"
    assert call["access_token"] != COMMUNITY


def test_metrics_and_entries_need_a_read_key(vk, make_adapter):
    adapter = make_adapter(service_token=None, user_token=None)
    for call in (
        lambda: adapter.metrics([ExternalRef(THREAD)]),
        lambda: adapter.entries(ExternalRef(THREAD)),
    ):
        with pytest.raises(AdapterError, match="service key") as failed:
            call()
        assert failed.value.permanent
    # The admin user token does as well.
    assert make_adapter(service_token=None).metrics([ExternalRef(THREAD)])


def test_entries_from_comments_reposts_likes_and_membership(vk, make_adapter):
    found = {e.author_id: e for e in make_adapter().entries(ExternalRef(THREAD))}
    assert {k: set(e.kinds) for k, e in found.items()} == {
        "5551001": {"comment", "repost", "like", "member"},  # replied in a long thread, reposted, liked
        "5551002": {"comment"},
        "5551003": {"repost", "like", "member"},
        "5551004": {"comment"},
        "5551005": {"like"},
    }
    assert found["5551002"].author_name == "Игорь Петров" and found["5551002"].text == "Участвую!"
    assert found["5551004"].author_name == "Пётр Орлов"
    assert found["5551003"].text == "Девочки, участвую, присоединяйтесь!"
    assert found["5551001"].created_at.timestamp() == 1764160700
    # The thread with more replies than the page carried was read on its own; our own reply is no entry.
    assert [c.get("comment_id") for c in vk.calls("wall.getComments")] == [None, "81"]
    assert f"-{GROUP}" not in found
    [member_call] = vk.calls("groups.isMember")
    assert member_call["user_ids"] == "5551001,5551002,5551003,5551004,5551005"
    assert member_call["access_token"] == COMMUNITY


# --- through the inbox ---------------------------------------------------------------------------------


def test_inbox_reply_and_deletion_of_a_received_comment(
    vk, vk_channel, cast, client, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/hooks/{vk_channel.pk}/", data=delivery("wall_reply_new"), content_type="application/json"
        )
    comment = Message.objects.get(external_id=f"{THREAD}_r77")
    owner = Membership.objects.get(user=cast.users["owner"], workspace=cast.workspace)
    with django_capture_on_commit_callbacks(execute=True):
        sent = inbox_actions.reply(comment.conversation, owner, "Окрашивание от 3000 ₽.")
    sent.refresh_from_db()
    assert sent.delivery == Message.Delivery.SENT
    [call] = vk.calls("wall.createComment")
    assert (call["post_id"], call["reply_to_comment"], call["from_group"]) == ("120", "77", str(GROUP))
    assert sent.external_id == f"{THREAD}_r{next(iter(vk.comments))}"
    inbox_actions.moderate(comment, "delete", "spam", owner)
    assert vk.deleted == [(-GROUP, 77)]
