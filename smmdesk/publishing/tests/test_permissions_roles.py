"""Who may do what to a post, role by role: write, submit, approve, reject, edit after approval, delete,
retry, change the settings; and nobody from another workspace."""

import pytest

from smmdesk.accounts.models import AuditEvent, Membership
from smmdesk.publishing import actions
from smmdesk.publishing.models import Post, Variant
from smmdesk.publishing.tests.core_fixtures import *  # noqa: F403
from smmdesk.publishing.tests.core_fixtures import DUE

ROLES = ["owner", "smm_manager", "content_manager", "agent", "viewer"]
DRAFTERS = {"owner", "smm_manager", "content_manager"}
APPROVERS = {"owner", "smm_manager"}


def outcome(call):
    try:
        call()
    except actions.NotAllowed:
        return False
    return True


@pytest.fixture
def submitted(clock, queue, make_post, members):
    post = make_post()
    actions.submit(members["content_manager"], post)
    return post


@pytest.fixture
def scheduled(clock, queue, make_post, members):
    post = make_post(scheduled_at=DUE)
    actions.submit(members["content_manager"], post)
    actions.approve(members["owner"], post)
    return post


@pytest.mark.parametrize("role", ROLES)
def test_who_may_write(role, clock, members, channels):
    allowed = outcome(
        lambda: actions.create_post(members[role], {"variants": [{"channel": channels[0].pk, "text": "Hi"}]})
    )
    assert allowed == (role in DRAFTERS)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_approve(role, submitted, members):
    assert outcome(lambda: actions.approve(members[role], submitted)) == (role in APPROVERS)
    submitted.refresh_from_db()
    assert (submitted.state == Post.State.APPROVED) == (role in APPROVERS)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_reject(role, submitted, members):
    assert outcome(lambda: actions.reject(members[role], submitted, "Not this week")) == (role in APPROVERS)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_edit_after_approval(role, scheduled, members):
    variant = scheduled.variants.first()
    data = {"variants": [{"channel": variant.channel_id, "text": "Changed"}]}
    assert outcome(lambda: actions.update_post(members[role], scheduled, data)) == (role in DRAFTERS)
    scheduled.refresh_from_db()
    # Approvers keep the approval; a content manager's change must be reviewed again.
    expected = {
        "owner": Post.State.SCHEDULED,
        "smm_manager": Post.State.SCHEDULED,
        "content_manager": Post.State.IN_REVIEW,
    }.get(role, Post.State.SCHEDULED)
    assert scheduled.state == expected


@pytest.mark.parametrize("role", ROLES)
def test_who_may_delete_someone_elses_post(role, submitted, members):
    if role == "content_manager":
        # Their own: allowed; the case of someone else's is below.
        return
    assert outcome(lambda: actions.delete_post(members[role], submitted)) == (role in APPROVERS)
    assert Post.objects.filter(pk=submitted.pk).exists() == (role not in APPROVERS)


def test_a_content_manager_deletes_own_posts_only_before_publishing(clock, queue, make_post, members):
    own = make_post()
    actions.delete_post(members["content_manager"], own)
    theirs = make_post(author="smm_manager")
    with pytest.raises(actions.NotAllowed):
        actions.delete_post(members["content_manager"], theirs)
    published = make_post()
    Post.objects.filter(pk=published.pk).update(state=Post.State.PUBLISHED)
    published.variants.update(
        state=Variant.State.PUBLISHED, external_id="wall-1", url="https://vk.com/wall-1_1"
    )
    with pytest.raises(actions.NotAllowed):
        actions.delete_post(members["content_manager"], published)
    actions.delete_post(members["owner"], published)
    # The post and its history are gone; the workspace's audit log keeps who deleted what.
    logged = AuditEvent.objects.filter(action=AuditEvent.Action.POST_DELETED).order_by("pk")
    assert [(e.actor, e.detail["post"]) for e in logged] == [
        (members["content_manager"].user, own.pk),
        (members["owner"].user, published.pk),
    ]
    assert logged.last().detail["published"] == ["https://vk.com/wall-1_1", "https://vk.com/wall-1_1"]


def test_nobody_deletes_or_edits_a_post_being_published(scheduled, members):
    Post.objects.filter(pk=scheduled.pk).update(state=Post.State.PUBLISHING)
    scheduled.variants.update(state=Variant.State.PUBLISHING)
    for role in APPROVERS:
        assert not outcome(lambda role=role: actions.delete_post(members[role], scheduled))
        assert not outcome(lambda role=role: actions.update_post(members[role], scheduled, {"title": "x"}))


@pytest.mark.parametrize("role", ROLES)
def test_who_may_retry_a_failed_variant(role, scheduled, members):
    variant = scheduled.variants.first()
    Variant.objects.filter(pk=variant.pk).update(state=Variant.State.FAILED, error="boom")
    assert outcome(lambda: actions.retry_variant(members[role], variant)) == (role in APPROVERS)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_change_the_settings(role, cast, members):
    assert outcome(lambda: actions.update_settings(members[role], approval_required=False)) == (
        role in APPROVERS
    )
    assert outcome(lambda: actions.rotate_ical_token(members[role])) == (role in APPROVERS)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_submit_and_schedule(role, clock, queue, make_post, members):
    post = make_post()
    assert outcome(lambda: actions.submit(members[role], post)) == (role in DRAFTERS)
    post = make_post()
    # With approval required, only an approver may put a draft on the calendar.
    assert outcome(lambda: actions.schedule(members[role], post, DUE)) == (role in APPROVERS)


def test_an_outsider_is_refused_everything(cast, submitted, members):
    outsider = Membership.objects.get(user=cast.outsider)
    assert outsider.role == "owner"
    for call in (
        lambda: actions.approve(outsider, submitted),
        lambda: actions.update_post(outsider, submitted, {"title": "x"}),
        lambda: actions.delete_post(outsider, submitted),
        lambda: actions.schedule(outsider, submitted, DUE),
    ):
        assert not outcome(call)
    assert Post.objects.filter(pk=submitted.pk, state=Post.State.IN_REVIEW).exists()
