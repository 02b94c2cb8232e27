"""Triggers that announce every write the inbox pages show, for their live streams (inbox/live.py).

PostgreSQL: NOTIFY smmdesk_live with the keys that changed ('w<workspace> c<conversation>', 'c<conversation>',
'm<membership>'). SQLite: the same keys as a row of inbox_livechange, which each web process reads after the
last id it saw; the worker prunes it (inbox/live_tasks.py). The SQL is written out here, not imported, so the
migration stays as it was when applied."""

from django.db import migrations

# table: (workspace, conversation, membership) as SQL expressions over NEW.
WATCHED = {
    "inbox_conversation": ("NEW.workspace_id", "NEW.id", None),
    "inbox_message": (None, "NEW.conversation_id", None),
    "inbox_timelineevent": (None, "NEW.conversation_id", None),
    "inbox_handoff": (None, "NEW.conversation_id", None),
    "inbox_notification": (None, None, "NEW.membership_id"),
}
KINDS = "wcm"


def _postgres_payload(columns) -> str:
    words = [f"'{kind}' || {column}" for kind, column in zip(KINDS, columns, strict=True) if column]
    return " || ' ' || ".join(words)


def create(apps, schema_editor):
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        branches = "\n".join(
            f"  {'IF' if n == 0 else 'ELSIF'} TG_TABLE_NAME = '{table}' THEN payload := {_postgres_payload(columns)};"
            for n, (table, columns) in enumerate(WATCHED.items())
        )
        run(
            "CREATE OR REPLACE FUNCTION smmdesk_live_change() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "DECLARE payload text;\nBEGIN\n"
            f"{branches}\n  END IF;\n"
            "  PERFORM pg_notify('smmdesk_live', payload);\n  RETURN NULL;\nEND;\n$$"
        )
        for table in WATCHED:
            run(
                f"CREATE TRIGGER {table}_live AFTER INSERT OR UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION smmdesk_live_change()"
            )
        return
    run(
        "CREATE TABLE inbox_livechange (id integer PRIMARY KEY AUTOINCREMENT, "
        "workspace_id bigint NULL, conversation_id bigint NULL, membership_id bigint NULL)"
    )
    for table, columns in WATCHED.items():
        values = ", ".join(column or "NULL" for column in columns)
        for event in ("INSERT", "UPDATE"):
            run(
                f"CREATE TRIGGER {table}_live_{event.lower()} AFTER {event} ON {table} BEGIN "
                "INSERT INTO inbox_livechange (workspace_id, conversation_id, membership_id) "
                f"VALUES ({values}); END"
            )


def drop(apps, schema_editor):
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        for table in WATCHED:
            run(f"DROP TRIGGER IF EXISTS {table}_live ON {table}")
        run("DROP FUNCTION IF EXISTS smmdesk_live_change()")
        return
    for table in WATCHED:
        for event in ("insert", "update"):
            run(f"DROP TRIGGER IF EXISTS {table}_live_{event}")
    run("DROP TABLE IF EXISTS inbox_livechange")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0004_raw_event_waiting_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
