"""The contest pages: who sees and does what, the steps as buttons, refusals as messages (never an error
page), escaping of what strangers write, and the public proof page without login showing nothing
personal beyond the owner's choice."""

import hashlib
import html

import pytest
from django.urls import reverse

from smmdesk.contests import actions, proof
from smmdesk.contests.models import Contest, Entrant
from smmdesk.contests.tests.conftest import NOW, on_post, person, run_to

pytestmark = pytest.mark.django_db

XSS = '<img src=x onerror=alert(1)>"><script>alert(1)</script>'


def url(name, contest=None, slug="salon", **kwargs):
    if contest is not None:
        kwargs["contest_id"] = contest.pk
    return reverse(f"contests:{name}", kwargs={"slug": slug, **kwargs})


def proof_url(contest, name="contest_proof"):
    return reverse(name, kwargs={"token": contest.proof_token})


@pytest.fixture
def drawn(clock, make_contest, members):
    on_post(
        [person(1, name="Ольга Петрова", text="участвую " + XSS), person(2, name="Игорь Смирнов")]
        + [person(n, name=f"Гость {n}") for n in range(3, 9)]
    )
    return run_to(make_contest(winners_count=2), "drawn", members["smm_manager"])


def test_the_section_lists_contests_for_every_role(clock, cast, client, make_contest):
    make_contest(title="Autumn giveaway")
    for role in ("owner", "viewer", "agent"):
        client.force_login(cast.users[role])
        page = client.get(url("list")).content.decode()
        assert "Autumn giveaway" in page
        assert ('data-testid="new-contest"' in page) == (role == "owner")


def test_creating_a_contest_on_the_page(clock, cast, client, channel):
    client.force_login(cast.users["smm_manager"])
    assert client.get(url("new")).status_code == 200
    response = client.post(
        url("new"),
        {
            "title": "Winter giveaway",
            "channel": channel.pk,
            "post_external_id": "post-7",
            "require_comment": "on",
            "comment_pattern": "хочу",
            "opens_at": "2026-11-02T10:00",
            "closes_at": "2026-11-09T20:00",
            "winners_count": "2",
            "staff_accounts": "id500\n@stylist",
            "exclude_winners_days": "0",
            "pseudonymisation": "hashed",
        },
    )
    contest = Contest.objects.get(title="Winter giveaway")
    assert response.status_code == 302 and response["Location"] == url("detail", contest)
    # Typed in the business's time (Orenburg, UTC+5).
    assert contest.opens_at.isoformat() == "2026-11-02T05:00:00+00:00"
    assert contest.staff_accounts == ["id500", "@stylist", "salon-vk"]
    assert contest.require_comment and not contest.require_repost


def test_bad_input_comes_back_on_the_form(clock, cast, client, channel):
    client.force_login(cast.users["owner"])
    response = client.post(
        url("new"),
        {
            "title": "Bad",
            "channel": channel.pk,
            "post_external_id": "p",
            "comment_pattern": "(a+)+",
            "pattern_is_regex": "on",
            "opens_at": "2026-11-09T10:00",
            "closes_at": "2026-11-02T10:00",
            "winners_count": "0",
            "exclude_winners_days": "0",
            "pseudonymisation": "initials",
        },
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert 'data-testid="error-winners_count"' in page
    response = client.post(
        url("new"),
        {
            "title": "Bad",
            "channel": channel.pk,
            "post_external_id": "p",
            "comment_pattern": "(a+)+",
            "pattern_is_regex": "on",
            "opens_at": "2026-11-09T10:00",
            "closes_at": "2026-11-02T10:00",
            "winners_count": "1",
            "exclude_winners_days": "0",
            "pseudonymisation": "initials",
        },
    )
    page = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert "a repeat inside a repeat" in page and "The contest must close after it opens." in page
    assert not Contest.objects.exists()


def test_the_steps_on_the_page(clock, cast, client, make_contest):
    on_post([person(1), person(2), person(3)])
    contest = make_contest()
    client.force_login(cast.users["smm_manager"])
    page = client.get(url("detail", contest)).content.decode()
    assert 'data-testid="open"' in page and 'data-testid="close"' not in page
    client.post(url("open", contest))
    page = client.get(url("detail", contest)).content.decode()
    assert 'data-status="open"' in page and Contest.objects.get().commitment in page
    assert 'data-testid="collect"' in page
    response = client.post(url("collect", contest), follow=True)
    assert "3 people on the post, 3 may win" in response.content.decode()
    client.post(url("close", contest))
    page = client.get(url("detail", contest)).content.decode()
    assert 'data-testid="public-value-form"' in page and 'data-testid="draw"' not in page
    response = client.post(url("public_value", contest), {"public_value": "  "}, follow=True)
    assert "Public value: This field is required." in html.unescape(response.content.decode())
    assert Contest.objects.get().public_value == ""
    client.post(url("public_value", contest), {"public_value": "7 8 9", "public_value_source": "Lotto"})
    response = client.post(url("draw", contest), follow=True)
    page = response.content.decode()
    contest.refresh_from_db()
    assert contest.status == "drawn" and contest.server_seed in page
    assert 'data-testid="winner-row"' in page and 'data-testid="announcement"' in page
    # The announcement links the public proof with the server's own address.
    assert f"http://testserver{proof_url(contest)}" in contest.announcement.variants.get().text


def test_a_refused_step_is_a_message_not_an_error_page(clock, cast, client, make_contest):
    contest = make_contest()
    client.force_login(cast.users["owner"])
    response = client.post(url("draw", contest), follow=True)
    assert response.status_code == 200
    assert "Only a closed contest can be drawn." in response.content.decode()


def test_viewer_reads_but_cannot_draw_and_outsider_finds_nothing(clock, cast, client, make_contest, members):
    on_post([person(1)])
    contest = run_to(make_contest(), "valued", members["smm_manager"])
    client.force_login(cast.users["viewer"])
    page = client.get(url("detail", contest)).content.decode()
    assert 'data-testid="draw"' not in page and 'data-testid="edit"' not in page
    for name in ("draw", "close", "collect", "open", "public_value", "delete", "edit"):
        assert client.post(url(name, contest)).status_code == 403, name
    contest.refresh_from_db()
    assert contest.status == "closed"
    client.force_login(cast.outsider)
    assert client.get(url("detail", contest)).status_code == 404
    assert client.post(url("draw", contest)).status_code == 404
    # The outsider's own workspace address with this contest's id: not found either.
    assert client.get(url("detail", contest, slug="rival")).status_code == 404


def test_entrants_page_shows_reasons_and_escapes_what_people_wrote(
    clock, cast, client, make_contest, members
):
    on_post([person(1, text="участвую " + XSS, name=XSS), person(2, {"like"})])
    contest = make_contest(comment_pattern="участвую")
    actions.collect(actions.open_contest(members["owner"], contest), members["owner"])
    client.force_login(cast.users["viewer"])
    page = client.get(url("entrants", contest)).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "no comment" in page
    assert 'data-testid="disqualify"' not in page
    refused = client.get(url("entrants", contest) + "?show=refused").content.decode()
    assert 'data-author="id2"' in refused and 'data-author="id1"' not in refused


def test_disqualifying_on_the_page(clock, cast, client, make_contest, members):
    on_post([person(1), person(2)])
    contest = make_contest()
    actions.collect(actions.open_contest(members["owner"], contest), members["owner"])
    entrant = Entrant.objects.get(author_id="id1")
    client.force_login(cast.users["smm_manager"])
    response = client.post(url("disqualify", contest, entrant_id=entrant.pk), {"reason": ""}, follow=True)
    assert "Say why this entrant is disqualified." in html.unescape(response.content.decode())
    client.post(url("disqualify", contest, entrant_id=entrant.pk), {"reason": "bought likes"})
    entrant.refresh_from_db()
    assert entrant.disqualified_reason == "bought likes" and not entrant.eligible
    page = client.get(url("entrants", contest)).content.decode()
    assert "disqualified: bought likes" in page and 'data-testid="reinstate"' in page
    client.post(url("reinstate", contest, entrant_id=entrant.pk))
    entrant.refresh_from_db()
    assert entrant.eligible


def test_an_entrant_of_another_contest_is_not_found(clock, cast, client, make_contest, members):
    on_post([person(1)])
    first, second = make_contest(), make_contest(title="Other")
    actions.collect(actions.open_contest(members["owner"], first), members["owner"])
    entrant = Entrant.objects.get()
    client.force_login(cast.users["owner"])
    assert client.post(url("disqualify", second, entrant_id=entrant.pk), {"reason": "x"}).status_code == 404


# The public proof page


@pytest.mark.parametrize("mode", ["full", "initials", "hashed"])
def test_the_proof_page_needs_no_login_and_shows_only_the_chosen_form(
    clock, client, make_contest, members, mode
):
    on_post(
        [
            person(1, name="Ольга Петрова", text="участвую, мой телефон 89001234567"),
            person(2, name="Игорь Смирнов"),
        ]
    )
    contest = run_to(
        make_contest(pseudonymisation=mode, staff_accounts=["stylist_lena"]), "drawn", members["smm_manager"]
    )
    response = client.get(proof_url(contest))
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow" and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    for value in (
        contest.commitment,
        contest.server_seed,
        contest.list_hash,
        contest.public_value,
        contest.draw_seed,
    ):
        assert value in page
    for winner in contest.entrants.filter(winner_rank__isnull=False):
        assert html.escape(winner.line) in page
    # Never: comments, staff accounts, the people who ran it.
    assert "89001234567" not in page and "stylist_lena" not in page
    assert members["smm_manager"].user.email not in page and "Smm Manager" not in page
    names_shown = "Ольга Петрова" in page or "Игорь Смирнов" in page
    ids_shown = "fake:id1" in page or "fake:id2" in page
    assert names_shown == ids_shown == (mode == "full")
    if mode == "initials":
        assert "О.П." in page or "И.С." in page


def test_the_downloads_are_what_the_hashes_cover(clock, client, drawn):
    listing = client.get(proof_url(drawn, "contest_proof_entrants"))
    assert listing.status_code == 200 and listing["Content-Type"] == "text/plain; charset=utf-8"
    assert hashlib.sha256(listing.content).hexdigest() == drawn.list_hash
    document = client.get(proof_url(drawn, "contest_proof_json"))
    assert document.status_code == 200
    loaded = proof.load(document.content.decode())
    assert proof.verify(loaded) == [] and loaded["entrant_list"].encode() == listing.content


def test_before_the_draw_the_proof_page_shows_what_is_known(clock, client, make_contest, members):
    contest = make_contest()
    assert client.get(proof_url(contest)).status_code == 404  # a draft is not public yet
    on_post([person(1)])
    contest = run_to(contest, "open", members["owner"])
    page = client.get(proof_url(contest)).content.decode()
    assert contest.commitment in page and "published when the contest closes" in page
    assert client.get(proof_url(contest, "contest_proof_entrants")).status_code == 404
    assert client.get(proof_url(contest, "contest_proof_json")).status_code == 404
    contest = run_to(contest, "closed", members["owner"])
    assert client.get(proof_url(contest, "contest_proof_entrants")).status_code == 200
    assert client.get(proof_url(contest, "contest_proof_json")).status_code == 404
    assert "revealed at the draw" in client.get(proof_url(contest)).content.decode()


def test_a_wrong_token_is_not_found(client, db):
    assert client.get(reverse("contest_proof", kwargs={"token": "nope"})).status_code == 404


def test_the_analytics_chart_and_counts(clock, cast, client, drawn):
    client.force_login(cast.users["viewer"])
    page = client.get(url("detail", drawn)).content.decode()
    assert 'data-testid="entries-chart"' in page and "<polyline" in page
    assert 'data-testid="new-members"' in page and "not measured" in page
    assert drawn.title in page and NOW.strftime("%d.%m.%Y") in page
