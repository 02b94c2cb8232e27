"""Writing imported orders: new ones inserted, existing ones (same workspace and order id) compared field
by field and updated only when something differs, in chunks, inside the caller's transaction."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from smmdesk.audience.models import ImportJob, Order

CHUNK = 2_000
# The fields an import sets and compares; the order's identity (workspace, order id) is the key.
COMPARED = [
    "date", "service_id", "service_name", "price", "client_id", "gender", "age", "birth_year",
    "district", "source", "utm_campaign",
]  # fmt: skip


class OrderWriter:
    """Orders in chunks: new ones inserted, existing ones (same workspace and order id) compared field by
    field and updated only when something differs.

    The statements are written here and run with executemany: bulk_create and bulk_update build their SQL
    value by value in Python for every batch (on SQLite, 60 rows each), which made them four fifths of
    an import's time. Values are still prepared by the model's own fields (get_db_prep_save), once per
    distinct value, so every database gets what the ORM would send it."""

    KEYS = ["workspace_id", "order_id", "import_job_id", "created_at"]

    def __init__(self, job: ImportJob):
        self.job = job
        self.pending: list[dict] = []
        self.created = self.updated = self.unchanged = 0
        self.fields = {name: Order._meta.get_field(name) for name in [*self.KEYS, *COMPARED]}
        self._prepared: dict[tuple[str, object], object] = {}
        quote = connection.ops.quote_name
        table = quote(Order._meta.db_table)
        names = [*self.KEYS, *COMPARED]
        columns = ", ".join(quote(self.fields[name].column) for name in names)
        # Names from the model's own meta, quoted; every value is a parameter.
        self.insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"  # noqa: S608
        changes = ", ".join(
            f"{quote(self.fields[name].column)} = %s" for name in [*COMPARED, "import_job_id"]
        )
        self.update_sql = f"UPDATE {table} SET {changes} WHERE {quote(Order._meta.pk.column)} = %s"  # noqa: S608

    def add(self, fields: dict) -> None:
        self.pending.append(fields)
        if len(self.pending) >= CHUNK:
            self.flush()

    def _db(self, name: str, value):
        if value is None or type(value) in (str, int):
            return value
        key = (name, value)
        try:
            return self._prepared[key]
        except KeyError:
            prepared = self._prepared[key] = self.fields[name].get_db_prep_save(value, connection)
            return prepared

    def flush(self) -> None:
        if not self.pending:
            return
        job, rows, self.pending = self.job, self.pending, []
        # Unordered: with Order's default ordering (by date) SQLite reads the workspace's orders through
        # the date index instead of looking each id up, and a large workspace makes every chunk slow.
        existing = {
            found[1]: found
            for found in Order.objects.filter(
                workspace_id=job.workspace_id, order_id__in=[row["order_id"] for row in rows]
            )
            .order_by()
            .values_list("pk", "order_id", *COMPARED)
        }
        now = timezone.now()
        inserts, updates = [], []
        for row in rows:
            service = row["service"]
            values = [row[name] if name != "service_id" else service and service.pk for name in COMPARED]
            found = existing.get(row["order_id"])
            if found is not None and list(found[2:]) == values:
                self.unchanged += 1
                continue
            prepared = [self._db(name, value) for name, value in zip(COMPARED, values, strict=True)]
            if found is None:
                keys = [job.workspace_id, row["order_id"], job.pk, now]
                inserts.append(
                    [self._db(name, key) for name, key in zip(self.KEYS, keys, strict=True)] + prepared
                )
            else:
                updates.append([*prepared, job.pk, found[0]])
        with connection.cursor() as cursor:
            if inserts:
                cursor.executemany(self.insert_sql, inserts)
            if updates:
                cursor.executemany(self.update_sql, updates)
        self.created += len(inserts)
        self.updated += len(updates)
