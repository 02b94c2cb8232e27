"""`smmdesk bench faults --rate R --replies N --posts M`: replies and posts through a network that fails.

In a throwaway data dir (fresh SQLite database, SQLite Huey queue, as the other benchmarks), a workspace
with an owner and an agent gets CHANNELS fake channels, one conversation per reply (opened by a customer's
message) and M approved posts due now, one variant each, round the channels. Then
the fake network's fault injector (channels/fake/faults.py) is switched on: a share R of its calls time
out, lose the connection, answer 5xx (half of these after the network did the write, the answer lost on
the way back) or 429 with Retry-After, and REVOKED channels get their token revoked half-way through their
calls. The network honours reply keys but not post keys: every publish call posts, so only the
product's ledger and find_published stand between a lost answer and a second post.

The agent sends the N replies through the product's own action (inbox.actions.reply, which queues
send_reply_task); the posts go through scheduling.enqueue and publish_variant_task. A Huey consumer in
this process (worker threads, as `smmdesk worker` runs them) works the queue. When nothing is in flight,
the people do what the product asked of them, and the queue runs again, until nothing is left to do:

- an owner with a "needs reconnecting" notice saves a new token on that channel and checks it (again,
  while the check itself fails); the publishing sweeper, which runs every minute, then releases the
  posts held for the channel (the benchmark runs it at once);
- an author whose reply shows as not sent retries it (inbox.actions.retry_reply), and an owner retries a
  post that failed (publishing.actions.retry_variant) once its channel works.

Then it counts against the fake network's own record: a reply or post is lost if the network never got
it, duplicated for each extra copy there; reconnect alerts are the owners' notices. Time: the product
waits 30 s, 1, 2, 4 and 8 minutes between attempts (longer after a person's retry, up to an hour) and
honours Retry-After. The consumer run divides those waits by TIME_SCALE (bench-only; the network's
Retry-After is 1 s); the tests run the same scenario with the product's own delays on a virtual clock
(tests/test_bench_faults.py).
"""

from __future__ import annotations

import argparse
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from smmdesk.bench import run_child, say, setup_child
from smmdesk.bench.publish import bench_workspace, fake_channels, scheduled_posts

CHANNELS = 8
REVOKED = 2
SEED = 1
THREADS = 4
# Bench-only: the product's waits between attempts (30 s doubling up to an hour) run this many times
# faster, and the network's 429 asks for a second.
TIME_SCALE = 30
BENCH_RETRY_AFTER = 1
POLL = 0.2
DEADLINE = 900.0
# Rounds of "the queue runs, then the people act" before giving up.
ROUNDS = 8
# Checks an owner makes after saving a new token, while the network keeps failing some of them.
CHECKS = 20
PREFIX = "faults"


@dataclass(frozen=True)
class Spec:
    replies: int
    posts: int
    rate: float
    channels: int = CHANNELS
    revoked: int = REVOKED
    seed: int = SEED

    def __post_init__(self):
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate: expected a share between 0 and 1, got {self.rate}")
        if self.replies < 0 or self.posts < 0 or self.replies + self.posts < 1:
            raise ValueError("replies, posts: expected at least one reply or post")
        if self.channels < 1 or not 0 <= self.revoked <= self.channels:
            raise ValueError("channels, revoked: expected 1 or more channels and at most that many revoked")


@dataclass
class Outcome:
    injected: int
    replies_lost: int
    replies_duplicated: int
    posts_lost: int
    posts_duplicated: int
    alerts: int
    revoked: int

    def line(self) -> str:
        return (
            f"faults: {self.injected} injected, replies lost {self.replies_lost}, replies duplicated "
            f"{self.replies_duplicated}, posts lost {self.posts_lost}, posts duplicated {self.posts_duplicated}, "
            f"reconnect alerts {self.alerts}"
        )


def run_faults(
    rate: float,
    replies: int,
    posts: int,
    channels: int = CHANNELS,
    revoked: int = REVOKED,
    seed: int = SEED,
    threads: int = THREADS,
    echo=print,
) -> str:
    """Run the benchmark in a child process on a throwaway database and queue; returns its last line."""
    args = ["--rate", str(rate), "--replies", str(int(replies)), "--posts", str(int(posts))]
    args += ["--channels", str(int(channels)), "--revoked", str(int(revoked)), "--seed", str(int(seed))]
    return run_child("smmdesk.bench.faults", [*args, "--threads", str(int(threads))], echo)


# --- the world ----------------------------------------------------------------------------------------


@dataclass
class World:
    workspace: object
    owner: object
    agent: object
    channels: list
    conversations: list
    variant_ids: list[int]


def build(spec: Spec) -> World:
    """The workspace, channels, conversations and scheduled posts; nothing sent yet, faults still off."""
    from smmdesk.accounts.models import Membership, User
    from smmdesk.accounts.roles import Role
    from smmdesk.channels.fake.adapter import FakeNetwork

    workspace, owner = bench_workspace(f"{PREFIX}-{spec.seed}", "Bench faults")
    user = User.objects.create_user(f"agent@{workspace.slug}.example", "bench-password-123", name="Agent")
    agent = Membership.objects.create(user=user, workspace=workspace, role=Role.AGENT)
    channels = fake_channels(workspace, spec.channels, f"{PREFIX}-{spec.seed}")
    for channel in channels:
        # Like a network without idempotency keys for posts: only a lookup can tell what a lost answer did.
        FakeNetwork.account(channel.typed_config().account_id).drops_repeats = False
    now = datetime.now(UTC)
    conversations = open_conversations(workspace, channels, spec.replies, now)
    variant_ids = scheduled_posts(owner, channels, spec.posts, now, hashtags=()) if spec.posts else []
    return World(workspace, owner, agent, channels, conversations, variant_ids)


def open_conversations(workspace, channels: list, count: int, now: datetime) -> list:
    """`count` direct-message conversations round the channels, each opened by one customer message.

    Written as ingestion leaves them but without its triage: taking messages in is measured by
    `bench ingest`, and loading the language models would only slow this one down."""
    from smmdesk.inbox.models import Conversation, Message

    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                workspace=workspace,
                channel=channels[i % len(channels)],
                kind="dm",
                thread_key=f"dm:chat-{i}",
                last_inbound_at=now,
                created_at=now,
                updated_at=now,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    Message.objects.bulk_create(
        [
            Message(
                workspace=workspace,
                channel=conversation.channel,
                conversation=conversation,
                direction=Message.Direction.IN,
                external_id=f"in-{i}",
                author_external_id=f"customer-{i}",
                author_name=f"Customer {i}",
                text="Hello, is there a free slot on Friday afternoon?",
                sent_at=now,
                received_at=now,
            )
            for i, conversation in enumerate(conversations)
        ],
        batch_size=1000,
    )
    return list(Conversation.objects.filter(workspace=workspace).select_related("channel").order_by("pk"))


def injector_for(spec: Spec, world: World, retry_after: int):
    """The fault injector: revoked channels lose their token half-way through their expected calls."""
    from smmdesk.channels.fake.faults import FaultConfig, FaultInjector

    per_channel = max(1, (spec.replies + spec.posts) // spec.channels)
    revoke = {
        channel.typed_config().account_id: max(1, per_channel // 2)
        for channel in world.channels[: spec.revoked]
    }
    return FaultInjector(
        FaultConfig(rate=spec.rate, seed=spec.seed, retry_after=retry_after, revoke_after=revoke)
    )


def send_all(world: World) -> None:
    from smmdesk.inbox import actions as inbox_actions
    from smmdesk.publishing import scheduling

    for index, conversation in enumerate(world.conversations):
        inbox_actions.reply(conversation, world.agent, reply_text(index))
    scheduling.enqueue(world.variant_ids, None)


def reply_text(index: int) -> str:
    return f"Bench reply {index + 1}: yes, Friday at 15:00 is free."


def in_flight(world: World) -> bool:
    """Replies still to be sent, or posts pending or being published (held ones wait for a person)."""
    from smmdesk.inbox.models import Message
    from smmdesk.publishing.models import Variant

    replies = Message.objects.filter(
        workspace_id=world.workspace.pk, direction=Message.Direction.OUT, delivery=Message.Delivery.PENDING
    )
    posts = Variant.objects.filter(
        pk__in=world.variant_ids, state__in=(Variant.State.PENDING, Variant.State.PUBLISHING)
    )
    return replies.exists() or posts.exists()


# --- the people ---------------------------------------------------------------------------------------


@dataclass
class Chores:
    reconnected: int = 0
    checks: int = 0
    replies_retried: int = 0
    posts_retried: int = 0

    def __iadd__(self, other: Chores) -> Chores:
        for name in ("reconnected", "checks", "replies_retried", "posts_retried"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def any(self) -> bool:
        return bool(self.reconnected or self.replies_retried or self.posts_retried)


def people_act(world: World, handled: set[str]) -> Chores:
    """What the owner and the agent do when told: reconnect alerted channels, retry what failed."""
    from smmdesk.channels import actions as channel_actions
    from smmdesk.channels.models import Channel
    from smmdesk.inbox import actions as inbox_actions
    from smmdesk.inbox.models import Message, Notification
    from smmdesk.publishing import actions as publishing_actions
    from smmdesk.publishing import scheduling
    from smmdesk.publishing.models import Variant

    done = Chores()
    alerts = Notification.objects.filter(membership=world.owner, key__startswith="channel-reconnect:")
    for key in alerts.exclude(key__in=handled).values_list("key", flat=True):
        handled.add(key)
        channel = Channel.objects.get(pk=int(key.split(":")[1]))
        if channel.status != Channel.Status.NEEDS_RECONNECT:
            continue
        token = f"{channel.typed_config().api_token.get_secret_value()}-renewed"
        channel_actions.update_channel(channel, values={"api_token": token}, actor=world.owner.user)
        done.reconnected += 1
        for _attempt in range(CHECKS):
            done.checks += 1
            if channel_actions.check_channel(channel.pk).status == Channel.Status.OK:
                break
    # The minute's sweeper: held posts go back to pending once their channel works.
    scheduling.sweep()
    working = set(
        Channel.objects.filter(workspace=world.workspace, status=Channel.Status.OK).values_list(
            "pk", flat=True
        )
    )
    failed_replies = Message.objects.filter(
        workspace_id=world.workspace.pk,
        direction=Message.Direction.OUT,
        delivery=Message.Delivery.FAILED,
        channel_id__in=working,
    ).select_related("conversation", "channel")
    for message in failed_replies:
        inbox_actions.retry_reply(message, world.agent)
        done.replies_retried += 1
    failed_posts = Variant.objects.filter(
        pk__in=world.variant_ids, state=Variant.State.FAILED, channel_id__in=working
    )
    for variant in failed_posts.select_related("post", "channel"):
        asked = publishing_actions.needs_confirmation(variant)
        if asked and variant.full_text() in network_posts(variant.channel):
            continue  # asked to look, the owner finds the post there: nothing to retry
        publishing_actions.retry_variant(world.owner, variant, confirmed_absent=asked)
        done.posts_retried += 1
    return done


# --- counting -----------------------------------------------------------------------------------------


def network_replies(channel) -> Counter[str]:
    from smmdesk.channels.fake.adapter import FakeNetwork

    account = FakeNetwork.account(channel.typed_config().account_id)
    return Counter(reply.text for reply in list(account.replies.values()))


def network_posts(channel) -> Counter[str]:
    from smmdesk.channels.fake.adapter import FakeNetwork

    account = FakeNetwork.account(channel.typed_config().account_id)
    return Counter(post["text"] for post in list(account.posts.values()))


def lost_and_doubled(expected: list[str], delivered: Counter[str]) -> tuple[int, int]:
    lost = sum(1 for text in expected if delivered[text] == 0)
    doubled = sum(delivered[text] - 1 for text in expected if delivered[text] > 1)
    return lost, doubled


def count(world: World, injector) -> tuple[Outcome, str]:
    """The outcome against the network's record, and a line on what the product itself recorded."""
    from smmdesk.inbox.models import Message, Notification
    from smmdesk.publishing.models import Variant

    replies, posts = Counter(), Counter()
    for channel in world.channels:
        replies += network_replies(channel)
        posts += network_posts(channel)
    variants = list(Variant.objects.filter(pk__in=world.variant_ids).select_related("post"))
    replies_lost, replies_doubled = lost_and_doubled(
        [reply_text(i) for i in range(len(world.conversations))], replies
    )
    posts_lost, posts_doubled = lost_and_doubled([v.full_text() for v in variants], posts)
    alerts = Notification.objects.filter(membership=world.owner, key__startswith="channel-reconnect:").count()
    sent = Message.objects.filter(
        workspace_id=world.workspace.pk, direction=Message.Direction.OUT, delivery=Message.Delivery.SENT
    ).count()
    published = sum(1 for v in variants if v.state == Variant.State.PUBLISHED)
    recorded = (
        f"faults: the product records {sent} of {len(world.conversations)} replies as sent and {published} of "
        f"{len(variants)} posts as published"
    )
    outcome = Outcome(
        injector.total,
        replies_lost,
        replies_doubled,
        posts_lost,
        posts_doubled,
        alerts,
        len(injector.revoked_accounts),
    )
    return outcome, recorded


# --- the run ------------------------------------------------------------------------------------------


class Runner(Protocol):
    """Works the queue: a consumer in real time (the command), or tasks run on a virtual clock (tests)."""

    def start(self) -> None: ...

    def settle(self, busy: Callable[[], bool]) -> None:
        """Work until busy() is false."""

    def stop(self) -> None: ...


def scenario(spec: Spec, runner: Runner, retry_after: int, echo=say) -> Outcome:
    """The whole benchmark in this process, against the configured database and queue."""
    from smmdesk.channels.fake.adapter import FakeNetwork

    world = build(spec)
    injector = injector_for(spec, world, retry_after)
    echo(
        f"faults: {len(world.conversations)} replies and {len(world.variant_ids)} posts on {spec.channels} fake "
        f"channels, fault rate {spec.rate:g}, {spec.revoked} tokens revoked mid-run, seed {spec.seed}"
    )
    FakeNetwork.faults = injector
    chores, handled = Chores(), set()
    runner.start()
    try:
        send_all(world)
        for _round in range(ROUNDS):
            runner.settle(lambda: in_flight(world))
            done = people_act(world, handled)
            chores += done
            if not done.any and not in_flight(world):
                break
    finally:
        runner.stop()
        FakeNetwork.faults = None
    outcome, recorded = count(world, injector)
    kinds = ", ".join(f"{kind} {injector.injected[kind]}" for kind in sorted(injector.injected))
    echo(f"faults: by kind {kinds or 'none'}; {injector.lost_responses} answers lost after the write")
    echo(
        f"faults: people reconnected {chores.reconnected} channels ({chores.checks} checks), retried "
        f"{chores.replies_retried} replies and {chores.posts_retried} posts; {outcome.revoked} tokens revoked"
    )
    echo(recorded)
    return outcome


class ConsumerRunner:
    """A Huey consumer in this process, worker threads as `smmdesk worker` runs them, in real time."""

    def __init__(self, threads: int):
        self.threads = threads
        self.consumer = None

    def start(self) -> None:
        from smmdesk.cli import _consumer

        self.consumer = _consumer(self.threads, periodic=False)
        # start() installs Huey's signal handlers, which only its own run loop acts on; this process runs
        # no such loop, so it keeps its own and Ctrl-C or SIGTERM still end it.
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        self.consumer.start()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)

    def settle(self, busy: Callable[[], bool]) -> None:
        deadline = time.monotonic() + DEADLINE
        while busy():
            if time.monotonic() > deadline:
                raise SystemExit(f"faults: still busy after {DEADLINE:.0f} s")
            time.sleep(POLL)

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.stop(graceful=True)


def shorten_waits() -> None:
    """Bench-only: the product's retry delays in seconds instead of minutes (see the module docstring)."""
    from smmdesk.inbox import reply_tasks
    from smmdesk.publishing import publisher

    for module in (reply_tasks, publisher):
        module.RETRY_DELAY = module.RETRY_DELAY / TIME_SCALE
        module.MAX_RETRY_DELAY = module.MAX_RETRY_DELAY / TIME_SCALE


def run(spec: Spec, threads: int) -> str:
    setup_child()
    from django.conf import settings

    # Notices go by e-mail too; the console backend would print them among the benchmark's lines.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    shorten_waits()
    started = time.monotonic()
    outcome = scenario(spec, ConsumerRunner(threads), BENCH_RETRY_AFTER)
    say(f"faults: done in {time.monotonic() - started:.1f} s with {threads} worker threads")
    return outcome.line()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smmdesk bench faults")
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=CHANNELS)
    parser.add_argument("--revoked", type=int, default=REVOKED)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=THREADS)
    args = parser.parse_args(argv)
    try:
        spec = Spec(args.replies, args.posts, args.rate, args.channels, args.revoked, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    say(run(spec, args.threads))


if __name__ == "__main__":
    main()
