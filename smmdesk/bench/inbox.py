"""`smmdesk bench inbox --messages N [--database-url URL]`: the first inbox page on a full database.

Fills the demo business's inbox up to N messages (a year of conversations, most of them resolved or
closed, a few thousand still open, spread over the departments and their members), then asks for the
first page of the inbox, filtered by status "open" and the Reception department, 200 times through
Django's test client in this process, as the SMM manager. "Server time" is the wall time of one request
through the whole middleware stack, the view, its queries and the template; one untimed request first
warms the caches a running server would have. Without --database-url the database is a fresh SQLite
file in a throwaway data dir; with it, the benchmark fills that database (use a throwaway one), and on
a later run only tops it up to N. PostgreSQL is ANALYZEd after filling, as autovacuum would.

Filling writes rows straight through the connection (executemany on SQLite, COPY on PostgreSQL) with
ids chosen here, so a million messages take minutes, not hours; what the page reads is the same as
ingestion would have written.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta

from smmdesk.bench import data, run_child, say, setup_child

REQUESTS = 200
CHUNK = 20_000
STATUS = "open"
DEPARTMENT = "Reception"
EXTRA = [("closed", 20)]
# Conversation length in messages (customer and replies) and how often each occurs.
LENGTHS = [(1, 30), (2, 25), (3, 15), (4, 10), (5, 8), (6, 5), (8, 4), (12, 3)]
DEPARTMENTS = [("Reception", 0.45), ("Quality", 0.2), ("Management", 0.1), (None, 0.25)]
OPEN_MIX = [("new", 0.25), ("open", 0.45), ("waiting_department", 0.12), ("waiting_customer", 0.18)]
DONE_MIX = [("resolved", 0.35), ("closed", 0.65)]
# Conversations started in the last week are mostly still being handled; older ones mostly are not.
RECENT_DAYS = 7
RECENT_ACTIVE = 0.7
STALE_ACTIVE = 0.01
DAYS = 365


def run_inbox(messages: int, database_url: str | None = None, echo=print) -> str:
    """Run the benchmark in a child process; returns its last line."""
    args = ["--messages", str(int(messages))]
    return run_child("smmdesk.bench.inbox", args, echo, database_url=database_url)


def result_line(timings: list[float], messages: int) -> str:
    ordered = sorted(timings)
    return (
        f"inbox: p50 {_quantile(ordered, 0.5) * 1000:.1f} ms, p95 {_quantile(ordered, 0.95) * 1000:.1f} ms "
        f"over {len(ordered)} requests with {messages} messages"
    )


def _quantile(ordered: list[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def demo_workspace():
    """The demo business in Orenburg, loaded first if this database does not have it yet."""
    from smmdesk.accounts.models import Workspace
    from smmdesk.core import demo

    workspace = Workspace.objects.filter(slug=data.DEMO_SLUG).select_related("profile").first()
    if workspace is None:
        demo.load()
        workspace = Workspace.objects.select_related("profile").get(slug=data.DEMO_SLUG)
    return workspace


# --- filling ---------------------------------------------------------------------------------------------


class Writer:
    """Rows straight into a table: every column, defaults filled in, values as the backend stores them."""

    def __init__(self, model, connection):
        from django.db import models

        self.model = model
        self.connection = connection
        self.table = model._meta.db_table
        self.fields = list(model._meta.concrete_fields)
        self.columns = [f.column for f in self.fields]
        self.defaults = {f.attname: None if f.primary_key else f.get_default() for f in self.fields}
        sqlite = connection.vendor == "sqlite"
        converters = []
        for f in self.fields:
            if isinstance(f, models.DateTimeField) and sqlite:
                converters.append(_sqlite_datetime)
            elif isinstance(f, models.JSONField):
                converters.append(json.dumps)
            elif isinstance(f, models.BooleanField) and sqlite:
                converters.append(int)
            else:
                converters.append(None)
        self.converters = list(zip([f.attname for f in self.fields], converters, strict=True))

    def row(self, values: dict) -> tuple:
        defaults = self.defaults
        out = []
        for name, convert in self.converters:
            value = values[name] if name in values else defaults[name]
            out.append(convert(value) if convert is not None and value is not None else value)
        return tuple(out)

    def next_id(self) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {self.table}")  # noqa: S608
            return (cursor.fetchone()[0] or 0) + 1

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        columns = ", ".join(self.connection.ops.quote_name(c) for c in self.columns)
        self.connection.ensure_connection()
        raw = self.connection.connection
        if self.connection.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(self.columns))
            raw.executemany(f"INSERT INTO {self.table} ({columns}) VALUES ({marks})", rows)  # noqa: S608


def _sqlite_datetime(value: datetime) -> str:
    # As Django's SQLite backend stores it: naive UTC, ISO format with a space.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


class Filler:
    def __init__(self, workspace, connection, seed: int = 11):
        from smmdesk.accounts.models import Membership
        from smmdesk.business.models import Department
        from smmdesk.channels.models import Channel
        from smmdesk.inbox.models import Conversation, Customer, CustomerIdentity, Message

        self.rng = random.Random(seed)
        self.workspace = workspace
        self.channels = list(Channel.objects.filter(workspace=workspace).values_list("pk", flat=True))
        self.departments = dict(Department.objects.filter(workspace=workspace).values_list("name", "pk"))
        self.members = {
            pk: list(
                Membership.objects.filter(departments__pk=pk).values_list("pk", flat=True)
                or Membership.objects.filter(workspace=workspace, role="agent").values_list("pk", flat=True)
            )
            for pk in self.departments.values()
        }
        self.writers = {
            model: Writer(model, connection) for model in (Customer, CustomerIdentity, Conversation, Message)
        }
        self.Customer, self.Identity, self.Conversation, self.Message = (
            Customer,
            CustomerIdentity,
            Conversation,
            Message,
        )
        self.ids = {model: writer.next_id() for model, writer in self.writers.items()}
        self.rows: dict = {model: [] for model in self.writers}
        self.customers: list[int] = []
        self.now = datetime.now(UTC)

    def _id(self, model) -> int:
        value = self.ids[model]
        self.ids[model] += 1
        return value

    def _customer(self, channel: int) -> tuple[int, str, str]:
        rng = self.rng
        if self.customers and rng.random() < 0.45:
            pk = rng.choice(self.customers)
            return pk, "", ""
        pk = self._id(self.Customer)
        person = data._person(rng, pk, f"c{channel}")
        self.rows[self.Customer].append(
            self.writers[self.Customer].row(
                {"id": pk, "workspace_id": self.workspace.pk, "name": person.name, "created_at": self.now}
            )
        )
        self.rows[self.Identity].append(
            self.writers[self.Identity].row(
                {
                    "id": self._id(self.Identity),
                    "customer_id": pk,
                    "channel_id": channel,
                    "network_id": person.network_id,
                    "handle": "",
                    "profile_url": "",
                }
            )
        )
        self.customers.append(pk)
        return pk, person.name, person.language

    def conversation(self, most: int) -> int:
        """One conversation with at most `most` messages; returns how many it has."""
        rng = self.rng
        pk = self._id(self.Conversation)
        channel = rng.choice(self.channels)
        kind = data._pick(rng, data.KINDS)
        customer, name, language = self._customer(channel)
        language = language or data._pick(rng, data.LANGUAGES)
        age_days = rng.random() * DAYS
        created = self.now - timedelta(days=age_days)
        recent = age_days < RECENT_DAYS
        active = rng.random() < (RECENT_ACTIVE if recent else STALE_ACTIVE)
        status = _pick(rng, OPEN_MIX if active else DONE_MIX)
        department_name = _pick(rng, DEPARTMENTS)
        department = self.departments.get(department_name) if department_name else None
        assignee = rng.choice(self.members[department]) if department and self.members[department] else None
        length = min(_pick(rng, LENGTHS), most)
        topic = _pick(rng, data.TOPICS)
        sentiment = {"complaint": "negative", "praise": "positive"}.get(topic, "neutral")
        at = created
        first_response = last_in = last_out = None
        for index in range(length):
            inbound = index % 2 == 0 or status == "new"
            if inbound:
                text = data.text_for(rng, language, topic if index == 0 else "followup")
                last_in = at
            else:
                text = "Здравствуйте! Спасибо за сообщение, уточню и вернусь с ответом."
                first_response = first_response or at
                last_out = at
            self.rows[self.Message].append(
                self.writers[self.Message].row(
                    {
                        "id": self._id(self.Message),
                        "workspace_id": self.workspace.pk,
                        "channel_id": channel,
                        "conversation_id": pk,
                        "direction": "in" if inbound else "out",
                        "external_id": f"bench-{pk}-{index}",
                        "author_name": name if inbound else "",
                        "author_external_id": f"c{channel}-user-{customer}" if inbound else "",
                        "author_id": None if inbound else assignee,
                        "text": text,
                        "sent_at": at,
                        "received_at": at,
                        "language": language,
                        "sentiment": sentiment if inbound else "",
                        "delivery": "received" if inbound else "sent",
                        "attachments": [],
                        "flags": [],
                    }
                )
            )
            at += timedelta(minutes=rng.randint(2, 240) if active else rng.randint(2, 600))
        updated = min(at, self.now)
        # Open deadlines: a first response 10 minutes after the message, else the day's resolution clock;
        # some are already past, as in any real queue.
        due = None
        if active and status != "waiting_customer":
            base = last_in or created
            due = base + timedelta(minutes=10 if first_response is None else 24 * 60)
        resolved = updated if status in ("resolved", "closed") else None
        self.rows[self.Conversation].append(
            self.writers[self.Conversation].row(
                {
                    "id": pk,
                    "workspace_id": self.workspace.pk,
                    "channel_id": channel,
                    "kind": kind,
                    "thread_key": f"bench:{pk}",
                    "customer_id": customer,
                    "subject": data.text_for(rng, language, topic)[:80],
                    "status": status,
                    "priority": 2 if sentiment == "negative" else 1,
                    "department_id": department,
                    "assignee_id": assignee,
                    "language": language,
                    "sentiment": sentiment,
                    "tags": [],
                    "first_response_due": due if first_response is None else None,
                    "resolution_due": due if first_response is not None else None,
                    "due_at": due,
                    "sla_paused_at": updated if status == "waiting_customer" else None,
                    "first_response_at": first_response,
                    "last_inbound_at": last_in,
                    "last_outbound_at": last_out,
                    "resolved_at": resolved,
                    "created_at": created,
                    "updated_at": updated,
                }
            )
        )
        return length

    def flush(self) -> None:
        from django.db import transaction

        with transaction.atomic():
            # Parents before children, for the foreign keys.
            for model in (self.Customer, self.Identity, self.Conversation, self.Message):
                self.writers[model].write(self.rows[model])
                self.rows[model] = []


def fill(workspace, target: int, echo=say) -> int:
    """Add conversations until the workspace has at least `target` messages; returns the count."""
    from django.core.management.color import no_style
    from django.db import connection

    from smmdesk.inbox.models import Message

    have = Message.objects.filter(workspace=workspace).count()
    if have >= target:
        echo(f"inbox: the database already has {have} messages for {workspace.slug}; not filling")
        return have
    filler = Filler(workspace, connection)
    started = time.perf_counter()
    added = pending = 0
    step = max((target - have) // 10, CHUNK)
    next_report = step
    while have + added < target:
        length = filler.conversation(target - have - added)
        added += length
        pending += length
        if pending >= CHUNK:
            filler.flush()
            pending = 0
        if added >= next_report:
            echo(f"  {have + added} messages written in {time.perf_counter() - started:.0f} s")
            next_report += step
    filler.flush()
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), list(filler.writers)):
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    total = Message.objects.filter(workspace=workspace).count()
    echo(f"inbox: filled to {total} messages in {time.perf_counter() - started:.0f} s ({connection.vendor})")
    return total


# --- measuring -------------------------------------------------------------------------------------------


def _client(user):
    from django.conf import settings
    from django.test import Client

    host = next((h for h in settings.ALLOWED_HOSTS if h and h not in ("*",) and not h.startswith(".")), "")
    client = Client(HTTP_HOST=host or "localhost")
    client.force_login(user)
    return client


def _explain(workspace, membership, department: int, echo) -> None:
    from smmdesk.inbox import queries

    try:
        filters = queries.Filters(status=STATUS, department=str(department))
        rows = queries.filtered(workspace, membership, filters).filter(due_at__isnull=False)
        plan = rows.order_by("due_at", "pk")[: queries.PAGE_SIZE + 1].explain()
    except Exception as exc:  # the plan is information; the benchmark goes on without it
        echo(f"plan: not available ({exc})")
        return
    for line in plan.splitlines():
        echo(f"plan: {line.strip()}")


def _page_counts(workspace, department: int) -> tuple[int, int]:
    from smmdesk.inbox.models import Conversation

    rows = Conversation.objects.filter(workspace=workspace)
    return rows.count(), rows.filter(status=STATUS, department_id=department).count()


def measure(messages: int, echo=say) -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from smmdesk.accounts.models import Membership

    workspace = demo_workspace()
    total = fill(workspace, messages, echo)
    department = workspace.departments.get(name=DEPARTMENT).pk
    # The salon's own SMM manager (the agency's manager is one too, in both demo workspaces).
    membership = (
        Membership.objects.select_related("user")
        .filter(workspace=workspace, role="smm_manager")
        .order_by("pk")
        .first()
    )
    conversations, matching = _page_counts(workspace, department)
    echo(
        f"inbox: {conversations} conversations; {matching} are {STATUS} in {DEPARTMENT} "
        f"(database: {connection.vendor})"
    )
    _explain(workspace, membership, department, echo)
    client = _client(membership.user)
    url = reverse("inbox:list", kwargs={"slug": workspace.slug})
    params = {"status": STATUS, "department": str(department)}
    with CaptureQueriesContext(connection) as queries_run:
        first = client.get(url, params)
    if first.status_code != 200:
        raise SystemExit(f"GET {url} answered {first.status_code}")
    echo(f"inbox: GET {url}?status={STATUS}&department={department}: {len(queries_run)} queries per page")
    # For comparison, not the result: a page of history, full of rows and without deadlines.
    for status, requests in EXTRA:
        extra = _time(client, url, {"status": status, "department": str(department)}, requests)
        echo(f"  (status {status}, {requests} requests: {result_line(extra, total).split(': ', 1)[1]})")
    return result_line(_time(client, url, params, REQUESTS), total)


def _time(client, url: str, params: dict, requests: int) -> list[float]:
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, params)
        timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smmdesk bench inbox")
    parser.add_argument("--messages", type=int, required=True)
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    setup_child()
    say(measure(args.messages))


if __name__ == "__main__":
    main()
