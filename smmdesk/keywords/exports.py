"""The workspace's queries as CSV (`smmdesk keywords generate --out`): query, kind, intent, cluster, volume
of every query not excluded by a negative keyword. Queries and cluster names can come from an import or a
person, so they are written through safe_cell: a spreadsheet shows "=HYPERLINK(...)" as text."""

from __future__ import annotations

import csv

from smmdesk.keywords.models import Keyword
from smmdesk.lib.spreadsheet import safe_cell

HEADER = ["query", "kind", "intent", "cluster", "volume"]


def write_csv(workspace, handle) -> None:
    rows = (
        Keyword.objects.filter(workspace=workspace, excluded=False)
        .select_related("cluster")
        .order_by("language", "query")
    )
    writer = csv.writer(handle)
    writer.writerow(HEADER)
    for row in rows.iterator():
        cluster = row.cluster.name if row.cluster else ""
        volume = "" if row.volume is None else row.volume
        writer.writerow([safe_cell(row.query), row.kind, row.intent, safe_cell(cluster), volume])
