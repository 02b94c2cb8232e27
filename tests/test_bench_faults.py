"""`smmdesk bench faults` at a small size, in this process against the test database and queue (so on
PostgreSQL + Redis too), with the product's own retry delays: the queued tasks run one by one and a
time-machine clock jumps to the next one due instead of waiting for it."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from click.testing import CliRunner
from huey.contrib.djhuey import HUEY

from smmdesk.bench import faults
from smmdesk.bench.cli import bench
from smmdesk.channels import health

LINE = re.compile(
    r"^faults: (\d+) injected, replies lost (\d+), replies duplicated (\d+), posts lost (\d+), "
    r"posts duplicated (\d+), reconnect alerts (\d+)$"
)


class VirtualClock:
    """Works the queue in this thread: the next task, or else the clock moves to the next one due."""

    def __init__(self):
        self.traveller = time_machine.travel(datetime.now(UTC), tick=False)
        self.shifter = None
        self.jumps = 0

    def start(self):
        self.shifter = self.traveller.start()

    def settle(self, busy):
        while True:
            # Asked first: on Redis an empty dequeue blocks for a second of real time.
            task = HUEY.dequeue() if HUEY.pending_count() else None
            if task is not None:
                HUEY.execute(task)
                continue
            now = datetime.now(UTC).replace(tzinfo=None)  # Huey keeps naive UTC times
            due = HUEY.read_schedule(now)
            for task in due:
                HUEY.execute(task, now)
            if due:
                continue
            waiting = [task.eta for task in HUEY.scheduled()]
            if not waiting:
                break
            self.shifter.shift(max(min(waiting) - now, timedelta(0)) + timedelta(milliseconds=1))
            self.jumps += 1
        assert not busy()

    def stop(self):
        self.traveller.stop()


@pytest.fixture
def clock():
    HUEY.flush()
    yield VirtualClock()
    HUEY.flush()


def test_result_line():
    outcome = faults.Outcome(612, 0, 1, 2, 3, 2, revoked=2)
    assert outcome.line() == (
        "faults: 612 injected, replies lost 0, replies duplicated 1, posts lost 2, posts duplicated 3, "
        "reconnect alerts 2"
    )
    assert LINE.match(outcome.line())


def test_losses_and_copies_are_counted_per_item():
    delivered = Counter({"a": 1, "b": 3, "c": 2})
    assert faults.lost_and_doubled(["a", "b", "c", "d", "e"], delivered) == (2, 3)


def test_a_spec_refuses_what_cannot_run():
    with pytest.raises(ValueError, match="rate"):
        faults.Spec(replies=1, posts=1, rate=1.5)
    with pytest.raises(ValueError, match="revoked"):
        faults.Spec(replies=1, posts=1, rate=0.1, channels=2, revoked=3)
    with pytest.raises(ValueError, match="replies, posts"):
        faults.Spec(replies=0, posts=0, rate=0.1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "1.5"], "--rate"),
        (["--replies", "0", "--posts", "0"], "--replies/--posts"),
        (["--channels", "2", "--revoked", "3"], "--revoked"),
        (["--threads", "0"], "--threads"),
    ],
)
def test_the_command_refuses_bad_options_before_running(args, message, monkeypatch):
    monkeypatch.setattr(faults, "run_child", lambda *a: pytest.fail("the benchmark must not start"))
    result = CliRunner().invoke(bench, ["faults", *args])
    assert result.exit_code == 2 and message in result.output


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_nothing_is_lost_or_doubled_at_a_fault_rate_of_30_percent(clock):
    lines = []
    spec = faults.Spec(replies=40, posts=40, rate=0.3, channels=4, revoked=2, seed=3)
    outcome = faults.scenario(spec, clock, retry_after=2, echo=lines.append)
    assert LINE.match(outcome.line()), lines
    assert outcome.injected > 0 and clock.jumps > 0, lines
    assert (outcome.replies_lost, outcome.replies_duplicated) == (0, 0), lines
    assert (outcome.posts_lost, outcome.posts_duplicated) == (0, 0), lines
    assert outcome.revoked == 2 and outcome.alerts == 2, lines
    assert "the product records 40 of 40 replies as sent and 40 of 40 posts as published" in lines[-1]


@pytest.mark.dbqueue
@pytest.mark.django_db(transaction=True)
def test_owners_never_told_leave_posts_held_and_the_count_shows_it(clock, monkeypatch):
    # Without the alert nobody reconnects: what waits for those channels must show up as lost.
    monkeypatch.setattr(health, "notify_owners", lambda channel_id: None)
    lines = []
    spec = faults.Spec(replies=8, posts=16, rate=0.0, channels=2, revoked=1, seed=3)
    outcome = faults.scenario(spec, clock, retry_after=2, echo=lines.append)
    assert outcome.alerts == 0 and outcome.revoked == 1, lines
    assert outcome.posts_lost > 0, lines
    assert outcome.posts_duplicated == 0 and outcome.replies_duplicated == 0, lines
