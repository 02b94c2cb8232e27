"""`smmdesk contests list` and `smmdesk contests proof`; the exported proof verifies with `verify`, and
the demo's finished contest is there after `smmdesk demo` (run twice: nothing doubles)."""

import json

import pytest
from click.testing import CliRunner

from smmdesk.contests import proof
from smmdesk.contests.cli import contests
from smmdesk.contests.models import Contest
from smmdesk.contests.tests.conftest import fake_channel, on_post, person, run_to

pytestmark = pytest.mark.django_db


def run(*args):
    return CliRunner().invoke(contests, list(args))


def test_list_prints_one_line_per_contest(clock, cast, make_contest, members):
    first = make_contest(title="Autumn\tgiveaway  for\nall")
    on_post([person(1)])
    second = run_to(make_contest(title="Open one"), "open", members["owner"])
    channel = fake_channel(cast.other, "Their VK", "rival-vk")
    from smmdesk.accounts.models import Membership
    from smmdesk.contests import actions
    from smmdesk.contests.tests.conftest import contest_data

    theirs = actions.create_contest(
        Membership.objects.get(workspace=cast.other), contest_data(channel, title="Rival's")
    )
    result = run("list")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"{first.pk} salon draft Autumn giveaway for all",
        f"{second.pk} salon open Open one",
        f"{theirs.pk} rival draft Rival's",
    ]
    assert run("list", "--workspace", "rival").output.splitlines() == [f"{theirs.pk} rival draft Rival's"]
    unknown = run("list", "--workspace", "nope")
    assert unknown.exit_code == 2 and "no workspace 'nope'" in unknown.output


def test_proof_exports_json_that_verifies(clock, make_contest, members, tmp_path):
    on_post([person(n) for n in range(1, 6)])
    contest = run_to(make_contest(winners_count=2), "drawn", members["owner"])
    result = run("proof", str(contest.pk))
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["list_hash"] == contest.list_hash and document["winners_count"] == 2
    path = tmp_path / "proof.json"
    path.write_text(result.output, encoding="utf-8")
    assert run("verify", str(path)).output == "OK\n"
    document["winners"][1]["line"] = 99
    path.write_text(json.dumps(document), encoding="utf-8")
    checked = run("verify", str(path))
    assert checked.exit_code == 1 and checked.output.startswith("winner 2: expected line ")


def test_proof_of_a_contest_not_drawn_or_missing(clock, make_contest):
    contest = make_contest()
    result = run("proof", str(contest.pk))
    assert result.exit_code == 1 and "complete once the contest is drawn" in result.output
    assert run("proof", "999999").exit_code == 2


def test_the_demo_has_a_finished_contest_with_a_proof_and_loads_twice(db):
    from smmdesk.core import demo

    demo.load()
    demo.load()
    (contest,) = Contest.objects.filter(workspace__slug="demo-orenburg")
    assert contest.status == "drawn" and contest.entrants.filter(winner_rank__isnull=False).count() == 2
    assert contest.drawn_at.year == 2026 and contest.drawn_at.month == 10
    document = proof.load(run("proof", str(contest.pk)).output)
    assert proof.verify(document) == []
    assert document["pseudonymisation"] == "initials" and document["entrants"] >= 5
    # The salon's own account and the stylist took part and were refused as staff.
    staff = contest.entrants.filter(author_id__in=["vk-lokon-orenburg", "id500"])
    assert len(staff) == 2 and all("staff" in [r["code"] for r in e.reasons] for e in staff)
    assert contest.announcement is not None and contest.announcement.state == "draft"
    assert not Contest.objects.filter(workspace__slug="demo-bratislava").exists()
