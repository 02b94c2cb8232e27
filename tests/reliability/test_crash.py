"""SIGKILL a queue worker, and separately the web process, during ingestion, publishing and an import;
after a restart nothing is lost or doubled.

The scenarios (crash.py) run real `smmdesk web`, `smmdesk serve`, worker and `smmdesk audience import`
processes in a throwaway installation (sandbox.py): on SQLite with its queue by default, on PostgreSQL +
Redis when DATABASE_URL and REDIS_URL are set. Each scenario runs once per module and kills one process
at a time; each test here checks one kill: that it came mid-work, and that once the product had
finished, the counts in the database and on the fake network are exactly what was sent.
"""

from __future__ import annotations

import pytest

from tests.reliability import crash
from tests.reliability.sandbox import Template

pytestmark = pytest.mark.dbqueue


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    template = Template.create(tmp_path_factory.mktemp("crash-template"))
    yield template
    template.drop()


@pytest.fixture(scope="module")
def scenario(template, tmp_path_factory):
    """scenario(name): its result, run once per module in its own copy of the template."""
    results = {}

    def run(name: str) -> dict:
        if name not in results:
            installation = template.clone(tmp_path_factory.mktemp(f"crash-{name}") / "data")
            try:
                results[name] = installation.run(name)
            finally:
                installation.drop()
        return results[name]

    return run


# --- ingestion: webhook bodies -> web -> queue -> worker -> inbox -------------------------------------


def assert_every_message_once(after: dict) -> None:
    assert (after["missing"], after["unexpected"]) == (0, 0), after
    assert after["stored"] == after["distinct"] == after["sent"], after
    assert after["raw_unprocessed"] == after["raw_refused"] == after["unanswered"] == 0, after


def test_worker_killed_while_ingesting_loses_and_doubles_nothing(scenario):
    after = scenario("ingest")["worker"]
    sent = after["sent"]
    assert sent > 0 and sent // 4 <= after["at_kill"]["messages"] < sent, after
    assert_every_message_once(after)


def test_web_killed_while_webhooks_arrive_loses_and_doubles_nothing(scenario):
    result = scenario("ingest")
    after = result["web"]
    assert after["bodies"] // 3 <= after["at_kill"]["bodies"] < after["bodies"], after
    # Bodies went unanswered while the web process was down, and were sent again once it was back.
    assert after["at_kill"]["unanswered"] > 0, after
    # Both halves: every message of the whole run, once.
    assert after["sent"] == crash.MESSAGES, after
    assert_every_message_once(after)
    assert "500" not in result["answers"], result["answers"]


# --- publishing: due variants -> worker -> fake network -----------------------------------------------


def assert_every_post_once(after: dict) -> None:
    assert (after["lost"], after["failed"]) == (0, 0), after
    assert after["published"] == after["posts"] == crash.POSTS, after
    # One post on the network per variant: none missing, none twice.
    assert after["on_network"] == after["distinct_on_network"] == crash.POSTS, after


def test_worker_killed_while_publishing_loses_and_doubles_nothing(scenario):
    after = scenario("publish")["worker"]
    assert crash.POSTS // 4 <= after["at_kill"]["published"] < crash.POSTS, after
    assert_every_post_once(after)


def test_web_killed_while_posts_are_scheduled_and_published_loses_and_doubles_nothing(scenario):
    after = scenario("publish")["web"]
    assert crash.POSTS // 3 <= after["at_kill"]["scheduled"] < crash.POSTS, after
    assert after["at_kill"]["unanswered"] > 0 and after["unanswered"] == 0, after
    assert_every_post_once(after)


# --- import: a CSV of orders, all or nothing ----------------------------------------------------------


def assert_imported_once(after: dict) -> None:
    assert 0.25 <= after["after_kill"]["file_read"] < 1, after
    assert after["after_kill"]["status"] == "running", after
    # The killed import's transaction died with it: not one of its orders was left.
    assert after["after_kill"]["orders"] == 0, after
    assert after["orders"] == after["distinct"] == crash.ROWS, after
    assert (after["missing"], after["unexpected"]) == (0, 0), after


@pytest.mark.parametrize("victim", ["worker", "web"])
def test_import_killed_midway_is_taken_up_again_and_done_whole(scenario, victim):
    after = scenario("import")[victim]
    assert_imported_once(after)
    # One job: queued again after the crash, and every order created by it.
    assert [(job["status"], job["created"]) for job in after["jobs"]] == [("done", crash.ROWS)], after


def test_command_line_import_killed_midway_then_run_again(scenario):
    after = scenario("import")["command"]
    assert_imported_once(after)
    # The killed run is closed as failed (the command's file is not the worker's to read again); the
    # command run again imports it all.
    assert after["after_kill"]["status_after_recovery"] == "failed", after
    assert after["rerun_exit"] == 0, after
    assert [(job["status"], job["created"]) for job in after["jobs"]] == [
        ("failed", 0),
        ("done", crash.ROWS),
    ], after
