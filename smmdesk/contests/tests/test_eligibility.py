"""Who may win: each condition with its reason, one entry per person, staff, recent winners, the period,
people who left the post, and manual disqualification (which needs a reason and is audited)."""

from datetime import timedelta

import pytest

from smmdesk.accounts.models import AuditEvent
from smmdesk.channels.base import Entry
from smmdesk.contests import actions, entries
from smmdesk.contests.models import Entrant
from smmdesk.contests.tests.conftest import ACCOUNT, NOW, POST, fake_channel, on_post, person, run_to

pytestmark = pytest.mark.django_db


def collected(contest, manager, found):
    on_post(found)
    if contest.status == "draft":
        contest = actions.open_contest(manager, contest)
    actions.collect(contest, manager)
    return {e.author_id: e for e in Entrant.objects.filter(contest=contest)}


def codes(entrant):
    return [r["code"] for r in entrant.reasons]


CONDITIONS = [
    ("require_comment", {"repost"}, "no_comment", "no comment"),
    ("require_repost", {"comment"}, "no_repost", "no repost"),
    ("require_like", {"comment"}, "no_like", "no like"),
    ("require_member", {"comment", "like"}, "not_member", "not a member or subscriber"),
]


@pytest.mark.parametrize("flag,kinds,code,words", CONDITIONS, ids=[c[2] for c in CONDITIONS])
def test_each_condition_refuses_with_its_reason(clock, make_contest, members, flag, kinds, code, words):
    contest = make_contest(**{"require_comment": False, flag: True})
    everything = {"comment", "repost", "like", "member"}
    rows = collected(contest, members["smm_manager"], [person(1, kinds), person(2, everything)])
    assert codes(rows["id1"]) == [code] and not rows["id1"].eligible
    assert entries.reason_text(rows["id1"].reasons[0]) == words
    assert rows["id2"].eligible and rows["id2"].reasons == []


def test_a_subscriber_counts_as_a_member(clock, make_contest, members):
    contest = make_contest(require_member=True)
    rows = collected(contest, members["smm_manager"], [person(1, {"comment", "subscriber"})])
    assert rows["id1"].eligible


def test_no_condition_at_all_lets_every_person_in(clock, make_contest, members):
    contest = make_contest(require_comment=False)
    rows = collected(contest, members["smm_manager"], [person(1, {"like"}), person(2, {"repost"})])
    assert all(r.eligible for r in rows.values())


@pytest.mark.parametrize("is_regex,pattern", [(False, "УЧАСТВУЮ"), (True, r"участвую\W*$")])
def test_a_comment_must_match_the_pattern(clock, make_contest, members, is_regex, pattern):
    contest = make_contest(comment_pattern=pattern, pattern_is_regex=is_regex, require_comment=False)
    found = [person(1, text="Участвую!"), person(2, text="а можно двоих?"), person(3, {"like"})]
    rows = collected(contest, members["smm_manager"], found)
    assert rows["id1"].eligible
    assert codes(rows["id2"]) == ["pattern"]
    assert entries.reason_text(rows["id2"].reasons[0]) == "comment doesn't match the pattern"
    # A pattern needs a comment to match: someone who only liked has none.
    assert codes(rows["id3"]) == ["no_comment"]


def test_one_entry_per_person_whatever_the_network_repeats(clock, make_contest, members):
    contest = make_contest(require_repost=True)
    early, late = NOW - timedelta(days=2), NOW - timedelta(days=1)
    found = [
        Entry("id7", "Ольга", frozenset({"repost"}), "", late),
        Entry("id7", "Ольга", frozenset({"comment"}), "участвую", early),
        Entry("id7", "", frozenset({"like"}), "", None),
    ]
    rows = collected(contest, members["smm_manager"], found)
    assert list(rows) == ["id7"]
    row = rows["id7"]
    assert row.kinds == ["comment", "like", "repost"] and row.entered_at == early and row.text == "участвую"
    assert row.eligible
    # Collecting again changes nothing: still one row.
    actions.collect(contest, members["smm_manager"])
    assert Entrant.objects.filter(contest=contest).count() == 1


def test_staff_accounts_are_excluded_by_id_or_handle(clock, make_contest, members):
    contest = make_contest(staff_accounts=["id2", "@Stylist_Lena"])
    found = [
        person(1),
        person(2),
        person(3, name="stylist_lena"),
        Entry(ACCOUNT, "Salon", frozenset({"comment"}), "hi", NOW),
    ]
    rows = collected(contest, members["smm_manager"], found)
    assert rows["id1"].eligible
    for key in ("id2", "id3", ACCOUNT):
        assert codes(rows[key]) == ["staff"], key
        assert entries.reason_text(rows[key].reasons[0]) == "staff account"
    # The channel's own account was added to the staff list at creation.
    assert ACCOUNT in contest.staff_accounts


def test_winners_of_the_last_days_may_not_win_again(clock, cast, make_contest, members):
    manager = members["smm_manager"]
    first = make_contest(winners_count=1)
    on_post([person(5)])
    first = run_to(first, "drawn", manager)
    assert first.entrants.get(author_id="id5").winner_rank == 1
    clock.move_to(NOW + timedelta(days=10), tick=False)
    second = make_contest(
        title="Second",
        post_external_id="post-43",
        exclude_winners_days=30,
        opens_at=NOW + timedelta(days=9),
        closes_at=NOW + timedelta(days=20),
    )
    on_post(
        [person(5, at=NOW + timedelta(days=9, hours=1)), person(6, at=NOW + timedelta(days=9, hours=2))],
        post="post-43",
    )
    second = actions.open_contest(manager, second)
    actions.collect(second, manager)
    rows = {e.author_id: e for e in second.entrants.all()}
    assert codes(rows["id5"]) == ["recent_winner"]
    # 09:00 UTC is 14:00 in Orenburg, the same day.
    assert entries.reason_text(rows["id5"].reasons[0]) == f"won on {NOW.date().isoformat()}"
    assert rows["id6"].eligible
    # A rule of 5 days no longer covers a win 10 days ago; another workspace's winners never count.
    actions.update_contest(manager, second, {"exclude_winners_days": 5})
    assert second.entrants.get(author_id="id5").eligible


def test_a_contest_never_excludes_its_own_winners(clock, make_contest, members):
    contest = make_contest(exclude_winners_days=30)
    on_post([person(5)])
    contest = run_to(contest, "drawn", members["smm_manager"])
    assert contest.entrants.get(author_id="id5").winner_rank == 1
    assert entries.recent_winners(contest, NOW) == {}


def test_entries_outside_the_period_are_refused(clock, make_contest, members):
    contest = make_contest(opens_at=NOW - timedelta(days=1), closes_at=NOW + timedelta(days=1))
    found = [
        person(1, at=NOW - timedelta(days=2)),
        person(2, at=NOW),
        Entry("id3", "Late", frozenset({"comment"}), "участвую", NOW + timedelta(days=2)),
        Entry("id4", "Liked", frozenset({"comment", "like"}), "участвую", None),
    ]
    rows = collected(contest, members["smm_manager"], found)
    assert codes(rows["id1"]) == ["before_open"]
    assert codes(rows["id3"]) == ["after_close"]
    assert rows["id2"].eligible and rows["id4"].eligible


def test_someone_who_left_the_post_is_kept_but_refused(clock, make_contest, members):
    contest = make_contest()
    manager = members["smm_manager"]
    collected(contest, manager, [person(1), person(2)])
    on_post([person(2)])
    counts = actions.collect(contest, manager)
    assert counts == {"new": 0, "seen": 1, "gone": 1, "eligible": 1}
    gone = contest.entrants.get(author_id="id1")
    assert not gone.present and codes(gone) == ["gone"]
    on_post([person(1), person(2)])
    actions.collect(contest, manager)
    assert contest.entrants.get(author_id="id1").eligible


def test_disqualification_needs_a_reason_is_audited_and_can_be_undone(clock, cast, make_contest, members):
    contest = make_contest()
    manager = members["smm_manager"]
    rows = collected(contest, manager, [person(1), person(2)])
    with pytest.raises(actions.ContestError) as refused:
        actions.disqualify(manager, rows["id1"], "   ")
    assert refused.value.errors[0][0] == "reason"
    entrant = actions.disqualify(manager, rows["id1"], "a second account of id2")
    assert not entrant.eligible
    assert entries.reason_text(entrant.reasons[0]) == "disqualified: a second account of id2"
    audit = AuditEvent.objects.get(action="contest_entry_disqualified")
    assert audit.actor == cast.users["smm_manager"] and audit.workspace == cast.workspace
    assert audit.detail == {"contest": contest.pk, "entrant": "id1", "reason": "a second account of id2"}
    assert contest.events.filter(action="disqualified", actor=manager).exists()
    # Collecting again keeps the disqualification.
    actions.collect(contest, manager)
    assert not contest.entrants.get(author_id="id1").eligible
    entrant = actions.reinstate(manager, entrant)
    assert entrant.eligible
    assert AuditEvent.objects.filter(action="contest_entry_reinstated").exists()


def test_disqualifying_is_refused_once_the_list_is_frozen(clock, make_contest, members):
    contest = make_contest()
    manager = members["smm_manager"]
    on_post([person(1)])
    contest = run_to(contest, "closed", manager)
    with pytest.raises(actions.WrongState):
        actions.disqualify(manager, contest.entrants.get(), "late doubts")


def test_disqualifying_needs_the_manage_permission(clock, make_contest, members):
    contest = make_contest()
    rows = collected(contest, members["smm_manager"], [person(1)])
    with pytest.raises(actions.NotAllowed):
        actions.disqualify(members["viewer"], rows["id1"], "no")


def test_a_second_channel_with_its_own_account_is_excluded_as_staff(clock, cast, members):
    channel = fake_channel(cast.workspace, "VK two", "salon-vk-2")
    contest = actions.create_contest(
        members["owner"],
        {
            "title": "T",
            "channel": channel.pk,
            "post_external_id": POST,
            "opens_at": NOW,
            "closes_at": NOW + timedelta(days=1),
        },
    )
    assert contest.staff_accounts == ["salon-vk-2"]
