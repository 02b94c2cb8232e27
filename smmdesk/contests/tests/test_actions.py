"""The contest's life through its use cases: draft → open → closed → drawn, what each state allows, bad
input named by field, network failures shown on the contest, the periodic task, the announcement post,
and Telegram's entries rebuilt from the inbox."""

from datetime import timedelta

import pytest

from smmdesk.channels import actions as channel_actions
from smmdesk.channels.base import Entry
from smmdesk.channels.fake.adapter import FakeNetwork
from smmdesk.channels.models import Channel
from smmdesk.contests import actions, draw, listing, proof, tasks
from smmdesk.contests.models import Contest, ContestEvent
from smmdesk.contests.tests.conftest import ACCOUNT, NOW, contest_data, on_post, person, run_to
from smmdesk.lib import crypto
from smmdesk.publishing.models import Post

pytestmark = pytest.mark.django_db


def fields_of(error: actions.ContestError) -> list[str]:
    return [field for field, _message in error.errors]


def test_the_whole_draw_commits_freezes_and_reveals(clock, make_contest, members):
    manager = members["smm_manager"]
    on_post([person(n) for n in range(1, 8)] + [person(8, {"like"})])
    contest = make_contest(winners_count=2, pseudonymisation="hashed")
    assert (contest.status, contest.commitment, contest.sealed_seed) == ("draft", "", "")

    contest = actions.open_contest(manager, contest)
    assert contest.status == "open" and contest.opened_at == NOW
    seed = bytes.fromhex(crypto.decrypt(contest.sealed_seed))
    assert contest.commitment == draw.commitment(seed)
    assert contest.server_seed == "" and seed.hex() not in contest.sealed_seed

    contest = actions.close_contest(manager, contest)
    assert contest.status == "closed"
    lines = listing.split_lines(contest.entrant_list)
    assert len(lines) == 7 and lines == sorted(lines)
    assert contest.list_hash == draw.list_hash(contest.entrant_list)
    numbered = {e.line_number: e.line for e in contest.entrants.filter(eligible=True)}
    assert [numbered[n] for n in range(1, 8)] == lines
    assert contest.entrants.get(author_id="id8").line_number is None

    contest = actions.set_public_value(manager, contest, "  7 14 21  ", "Lotto draw 1620")
    assert (contest.public_value, contest.public_value_by, contest.public_value_at) == (
        "7 14 21",
        manager,
        NOW,
    )
    contest = actions.draw_contest(manager, contest, "https://smmdesk.example/contests/proof/abc/")
    assert contest.status == "drawn" and contest.server_seed == seed.hex()
    expected = draw.pick(draw.draw_seed(seed, contest.list_hash, "7 14 21"), 7, 2)
    winners = contest.entrants.filter(winner_rank__isnull=False).order_by("winner_rank")
    assert [w.line_number - 1 for w in winners] == expected
    assert proof.verify(proof.load(proof.dumps(actions.proof_for(contest)))) == []
    assert list(contest.events.values_list("action", flat=True)) == [
        "created",
        "opened",
        "closed",
        "public_value",
        "drawn",
        "announcement",
    ]


def test_the_draw_drafts_an_announcement_for_the_contests_channel(clock, make_contest, members):
    on_post([person(1, name="Ольга Петрова"), person(2, name="Игорь")])
    contest = run_to(make_contest(pseudonymisation="initials"), "drawn", members["smm_manager"])
    post = Post.objects.get(pk=contest.announcement_id)
    assert post.state == "draft" and post.workspace == contest.workspace
    variant = post.variants.get()
    assert variant.channel_id == contest.channel_id
    winner = contest.entrants.get(winner_rank=1)
    assert winner.line in variant.text and "https://smmdesk.example/contests/proof/x/" in variant.text
    # The announcement shows the public form the owner chose, not the full name.
    assert winner.author_name not in variant.text


def ranks(contest) -> list[str]:
    winners = contest.entrants.filter(winner_rank__isnull=False).order_by("winner_rank")
    return list(winners.values_list("author_id", flat=True))


def test_same_inputs_same_winners_across_contests(clock, make_contest, members):
    """Two contests with the same seed, list and public value pick the same winners."""
    manager = members["smm_manager"]
    on_post([person(n) for n in range(1, 30)])
    first, second = make_contest(winners_count=3), make_contest(winners_count=3, title="Twin")
    first, second = run_to(first, "closed", manager), run_to(second, "open", manager)
    Contest.objects.filter(pk=second.pk).update(sealed_seed=first.sealed_seed, commitment=first.commitment)
    second = run_to(second, "drawn", manager)
    first = run_to(first, "drawn", manager)
    assert second.entrant_list == first.entrant_list
    assert ranks(first) == ranks(second) and len(ranks(first)) == 3


@pytest.mark.parametrize(
    "fields,field,words",
    [
        (
            {"comment_pattern": "(a+)+", "pattern_is_regex": True},
            "comment_pattern",
            "a repeat inside a repeat",
        ),
        (
            {"comment_pattern": "[", "pattern_is_regex": True},
            "comment_pattern",
            "not a valid regular expression",
        ),
        ({"winners_count": 0}, "winners_count", "from 1 to 1000"),
        ({"winners_count": "many"}, "winners_count", "whole number"),
        ({"closes_at": NOW - timedelta(days=4)}, "closes_at", "must close after it opens"),
        ({"opens_at": "yesterday"}, "opens_at", "2026-12-01T10:00"),
        ({"title": "  "}, "title", "required"),
        ({"post_external_id": ""}, "post_external_id", "required"),
        ({"post_url": "javascript:alert(1)"}, "post_url", "https://"),
        ({"pseudonymisation": "names"}, "pseudonymisation", "Choose"),
        ({"staff_accounts": 5}, "staff_accounts", "one per line"),
        ({"exclude_winners_days": -1}, "exclude_winners_days", "from 0"),
        ({"variant": 999999}, "variant", "published posts"),
        ({"title": "x" * 201}, "title", "at most 200"),
    ],
)
def test_bad_input_is_refused_naming_the_field(clock, make_contest, fields, field, words):
    with pytest.raises(actions.ContestError) as refused:
        make_contest(**fields)
    assert field in fields_of(refused.value)
    assert words in dict(refused.value.errors)[field]
    assert not Contest.objects.exists()


def test_a_channel_of_another_workspace_is_not_offered(clock, cast, members):
    theirs = channel_actions.create_channel(
        cast.other, "fake", "Theirs", {"account_id": "theirs", "api_token": "token-theirs-1"}
    )
    with pytest.raises(actions.ContestError) as refused:
        actions.create_contest(members["owner"], contest_data(theirs))
    assert fields_of(refused.value) == ["channel"]


def test_a_contest_on_a_published_variant_takes_its_post(clock, cast, members, channel):
    from smmdesk.publishing import actions as publishing
    from smmdesk.publishing.models import Variant

    post = publishing.create_post(
        members["smm_manager"],
        {"title": "Giveaway post", "variants": [{"channel": channel.pk, "text": "Win!"}]},
    )
    variant = post.variants.get()
    Variant.objects.filter(pk=variant.pk).update(
        state="published", external_id="post-99", url="https://fake.invalid/p/99"
    )
    data = contest_data(channel, variant=variant.pk)
    del data["post_external_id"], data["channel"]
    contest = actions.create_contest(members["owner"], data)
    assert (contest.channel, contest.post_external_id, contest.post_url) == (
        channel,
        "post-99",
        "https://fake.invalid/p/99",
    )
    assert contest.variant_id == variant.pk


def test_states_allow_only_their_steps(clock, make_contest, members):
    manager = members["smm_manager"]
    on_post([person(1), person(2)])
    contest = make_contest()
    with pytest.raises(actions.WrongState, match="Open the contest before closing it"):
        actions.close_contest(manager, contest)
    for step in (actions.collect, lambda m, c: actions.draw_contest(m, c)):
        with pytest.raises(actions.ContestError):
            step(manager, contest) if step is not actions.collect else step(contest, manager)
    with pytest.raises(actions.WrongState):
        actions.set_public_value(manager, contest, "1 2 3")
    contest = actions.open_contest(manager, contest)
    with pytest.raises(actions.WrongState):
        actions.open_contest(manager, contest)
    with pytest.raises(actions.WrongState):
        actions.delete_contest(manager, contest)
    contest = actions.close_contest(manager, contest)
    with pytest.raises(actions.WrongState, match="already closed"):
        actions.close_contest(manager, contest)
    with pytest.raises(actions.ContestError, match="Record the public value first") as refused:
        actions.draw_contest(manager, contest)
    assert fields_of(refused.value) == ["public_value"]
    for empty in ("", "   ", None):
        with pytest.raises(actions.ContestError) as refused:
            actions.set_public_value(manager, contest, empty)
        assert fields_of(refused.value) == ["public_value"]
    contest = actions.set_public_value(manager, contest, "1 2 3")
    with pytest.raises(actions.WrongState, match="already recorded"):
        actions.set_public_value(manager, contest, "4 5 6")
    contest = actions.draw_contest(manager, contest)
    with pytest.raises(actions.WrongState):
        actions.draw_contest(manager, contest)


def test_opening_after_the_closing_time_is_refused(clock, make_contest, members):
    contest = make_contest(closes_at=NOW + timedelta(hours=1))
    clock.move_to(NOW + timedelta(hours=2), tick=False)
    with pytest.raises(actions.ContestError) as refused:
        actions.open_contest(members["owner"], contest)
    assert fields_of(refused.value) == ["closes_at"]


def test_more_winners_than_entrants_cannot_be_drawn_until_lowered(clock, make_contest, members):
    manager = members["smm_manager"]
    on_post([person(1), person(2)])
    contest = run_to(make_contest(winners_count=3), "closed", manager)
    with pytest.raises(
        actions.ContestError, match="3 winners cannot be drawn from 2 eligible entrants"
    ) as refused:
        actions.draw_contest(manager, actions.set_public_value(manager, contest, "5"))
    assert fields_of(refused.value) == ["winners_count"]
    # Once the public value is known, the number of winners is fixed too.
    with pytest.raises(actions.WrongState):
        actions.update_contest(manager, contest, {"winners_count": 2})


def test_the_winners_count_may_be_lowered_before_the_public_value(clock, make_contest, members):
    manager = members["smm_manager"]
    on_post([person(1), person(2)])
    contest = run_to(make_contest(winners_count=3), "closed", manager)
    contest = actions.update_contest(manager, contest, {"winners_count": 2})
    contest = run_to(actions.set_public_value(manager, contest, "5"), "drawn", manager)
    assert contest.entrants.filter(winner_rank__isnull=False).count() == 2


def test_conditions_are_fixed_once_open(clock, make_contest, members):
    manager = members["smm_manager"]
    contest = actions.open_contest(manager, make_contest())
    with pytest.raises(actions.WrongState) as refused:
        actions.update_contest(
            manager, contest, {"require_repost": True, "closes_at": NOW + timedelta(days=30)}
        )
    assert sorted(fields_of(refused.value)) == ["closes_at", "require_repost"]
    contest = actions.update_contest(manager, contest, {"title": "Renamed", "require_comment": True})
    assert contest.title == "Renamed"


def test_only_managers_run_contests(clock, make_contest, members):
    contest = make_contest()
    for role in ("content_manager", "agent", "viewer"):
        with pytest.raises(actions.NotAllowed):
            actions.create_contest(members[role], contest_data(contest.channel))
        with pytest.raises(actions.NotAllowed):
            actions.open_contest(members[role], contest)
    actions.open_contest(members["owner"], contest)


def test_a_network_failure_is_noted_on_the_contest_and_closing_waits(clock, make_contest, members):
    manager = members["smm_manager"]
    on_post([person(1)])
    contest = actions.open_contest(manager, make_contest())
    FakeNetwork.account(ACCOUNT).revoked = True
    with pytest.raises(actions.ContestError) as refused:
        actions.collect(contest, manager)
    assert fields_of(refused.value) == ["collect"]
    assert "the access token was revoked" in refused.value.message
    contest.refresh_from_db()
    assert contest.collect_error == "the access token was revoked"
    with pytest.raises(actions.ContestError):
        actions.close_contest(manager, contest)
    contest.refresh_from_db()
    assert contest.status == "open"
    FakeNetwork.account(ACCOUNT).revoked = False
    actions.collect(contest, manager)
    contest.refresh_from_db()
    assert contest.collect_error == "" and contest.entrants.count() == 1


def test_the_periodic_task_collects_then_closes_at_the_closing_time(clock, make_contest, members):
    manager = members["smm_manager"]
    contest = actions.open_contest(manager, make_contest(closes_at=NOW + timedelta(days=1)))
    on_post([person(1)])
    assert actions.open_contest_ids() == [contest.pk]
    tasks.tend_contest_task.call_local(contest.pk)
    assert contest.entrants.count() == 1
    on_post([person(1), person(2, at=NOW + timedelta(hours=2))])
    clock.move_to(NOW + timedelta(days=1, minutes=5), tick=False)
    tasks.tend_contest_task.call_local(contest.pk)
    contest.refresh_from_db()
    assert contest.status == "closed" and contest.closed_at == NOW + timedelta(days=1, minutes=5)
    assert len(listing.split_lines(contest.entrant_list)) == 2
    assert ContestEvent.objects.get(contest=contest, action="closed").actor is None
    # Running again (a task delivered twice) does nothing more.
    assert actions.tend(contest.pk) == "nothing"
    assert actions.open_contest_ids() == []


def test_the_periodic_task_survives_a_network_failure(clock, make_contest, members):
    contest = actions.open_contest(members["owner"], make_contest())
    FakeNetwork.account(ACCOUNT).revoked = True
    assert actions.tend(contest.pk) == "failed"
    contest.refresh_from_db()
    assert contest.status == "open" and "revoked" in contest.collect_error
    # A lasting failure is noted once in the history, not at every run.
    assert actions.tend(contest.pk) == "failed"
    assert contest.events.filter(action="collect_failed").count() == 1


def test_a_deleted_draft_is_gone_and_only_a_draft_can_go(clock, make_contest, members):
    contest = make_contest()
    actions.delete_contest(members["owner"], contest)
    assert not Contest.objects.exists()


def test_a_withdrawn_channel_adapter_is_a_clear_error(clock, make_contest, members):
    contest = actions.open_contest(members["owner"], make_contest())
    Channel.objects.filter(pk=contest.channel_id).update(kind="gone-network")
    with pytest.raises(actions.ContestError, match="no longer available"):
        actions.collect(contest, members["owner"])


# Telegram: the Bot API cannot list comments; the inbox's messages of the post stand in.

TG_CHANNEL = -1001500000001
TG_POST = f"{TG_CHANNEL}:42"


def test_telegram_entries_come_from_the_inbox_comments(clock, cast, members):
    from smmdesk.inbox.models import Conversation, Message

    channel = channel_actions.create_channel(
        cast.workspace,
        "telegram",
        "Salon bot",
        {"bot_token": "7012345678:AAF-tok-secret-value", "channel_chat_id": str(TG_CHANNEL)},
    )
    conversation = Conversation.objects.create(
        workspace=cast.workspace, channel=channel, kind="comment", thread_key=f"post:{TG_POST}"
    )
    other = Conversation.objects.create(
        workspace=cast.workspace, channel=channel, kind="comment", thread_key=f"post:{TG_CHANNEL}:43"
    )
    for n, (conv, author, text) in enumerate(
        [
            (conversation, "333", "Участвую!"),
            (conversation, "333", "И ещё раз"),
            (conversation, "444", "участвую"),
            (conversation, "7012345678", "Спасибо всем"),  # the bot itself
            (other, "555", "участвую"),  # under another post
        ]
    ):
        Message.objects.create(
            workspace=cast.workspace,
            channel=channel,
            conversation=conv,
            direction="in",
            external_id=f"-100160:{70 + n}",
            author_external_id=author,
            author_name=f"Person {author}",
            text=text,
            sent_at=NOW - timedelta(hours=5 - n),
        )
    Message.objects.create(
        workspace=cast.workspace,
        channel=channel,
        conversation=conversation,
        direction="out",
        text="Our reply",
    )
    data = contest_data(channel, post_external_id=TG_POST, post_url="", comment_pattern="участвую")
    contest = actions.open_contest(members["owner"], actions.create_contest(members["owner"], data))
    counts = actions.collect(contest, members["owner"])
    assert counts["seen"] == 2
    rows = {e.author_id: e for e in contest.entrants.all()}
    assert set(rows) == {"333", "444"}
    assert rows["333"].text == "Участвую!" and rows["333"].eligible and rows["444"].eligible


def test_a_telegram_post_id_that_is_not_one_is_a_clear_error(clock, cast, members):
    channel = channel_actions.create_channel(
        cast.workspace, "telegram", "Salon bot", {"bot_token": "7012345678:AAF-tok-secret-value"}
    )
    data = contest_data(channel, post_external_id="not-a-message", post_url="")
    contest = actions.open_contest(members["owner"], actions.create_contest(members["owner"], data))
    with pytest.raises(actions.ContestError, match="not a Telegram message id"):
        actions.collect(contest, members["owner"])


def test_entries_with_empty_or_huge_ids_are_handled(clock, make_contest, members):
    long_id = "did:plc:" + "x" * 400
    on_post(
        [
            Entry("", "Nobody", frozenset({"comment"}), "hi", NOW),
            Entry(long_id, "Long", frozenset({"comment"}), "hi", NOW),
        ]
    )
    contest = actions.open_contest(members["owner"], make_contest())
    actions.collect(contest, members["owner"])
    (row,) = contest.entrants.all()
    assert len(row.author_id) <= 200 and row.author_id.startswith("did:plc:")


def test_deleting_the_channel_keeps_the_contest_and_its_proof(clock, cast, client, make_contest, members):
    on_post([person(1), person(2)])
    contest = run_to(make_contest(), "drawn", members["owner"])
    channel_actions.delete_channel(contest.channel)
    contest.refresh_from_db()
    assert contest.channel_id is None and contest.network == "fake"
    assert proof.verify(actions.proof_for(contest)) == []
    from django.urls import reverse

    assert client.get(reverse("contest_proof", kwargs={"token": contest.proof_token})).status_code == 200
    client.force_login(cast.users["owner"])
    assert (
        client.get(reverse("contests:detail", kwargs={"slug": "salon", "contest_id": contest.pk})).status_code
        == 200
    )
