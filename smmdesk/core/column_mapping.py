"""The column-mapping step shared by the file imports (Audience's orders, Ads' statistics reports): which
column of the uploaded file holds which of our fields, judged the same way, and the first rows shown as
that mapping reads them, each with its problems.

A mapping is {field: column index}; a field left out (or None) is "not in the file". The rules: every
field is one we know, every column is one the file has, the required fields are chosen, and no column is
chosen for two fields. Each broken rule is a (field, message) pair, so the page can put it next to the
field's select.
"""

from __future__ import annotations

from collections import Counter

from django.utils.translation import gettext as _


def mapping_errors(
    headers: list[str], mapping, names, required
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """(the mapping as stored: field -> column index, unmapped fields left out; every (field, message)
    wrong with it). Column indexes may come as digit strings, as a form sends them."""
    if not isinstance(mapping, dict):
        return {}, [("mapping", _("The mapping must be field: column pairs."))]
    errors: list[tuple[str, str]] = []
    clean: dict[str, int] = {}
    for field, column in mapping.items():
        if field not in names:
            errors.append((str(field), _("There is no field %(field)s.") % {"field": field}))
            continue
        if column is None or column == "":
            continue
        if isinstance(column, str) and column.strip().isdigit():
            column = int(column)
        if isinstance(column, bool) or not isinstance(column, int) or not 0 <= column < len(headers):
            errors.append((field, _("No such column in the file.")))
            continue
        clean[field] = column
    for field in required:
        if field not in clean and not any(name == field for name, _m in errors):
            errors.append((field, _("Choose the column with this field.")))
    columns = Counter(clean.values())
    for field, column in clean.items():
        if columns[column] > 1:
            errors.append((field, _("This column is chosen for another field too.")))
    return clean, errors


def preview_table(labels: dict[str, str], mapping: dict, found: list[dict]) -> dict:
    """The preview as the mapping step's template shows it: the mapped fields as columns (in the order of
    `labels`), then per row its number, its cells and its problems with the fields' labels. `found` is
    [{"row", "values": {field: text}, "errors": [{"field", "message"}]}]."""
    mapping = mapping if isinstance(mapping, dict) else {}
    columns = [name for name in labels if mapping.get(name) is not None]
    rows = []
    for item in found:
        problems = item.get("errors", [])
        values = item.get("values", {})
        rows.append(
            {
                "row": item.get("row"),
                "cells": [values.get(name, "") for name in columns],
                "errors": [
                    {
                        "field": labels.get(e.get("field") or "", e.get("field") or ""),
                        "message": e.get("message", ""),
                    }
                    for e in problems
                ],
                "bad_fields": {e.get("field") for e in problems},
            }
        )
    return {"columns": [{"name": n, "label": labels[n]} for n in columns], "rows": rows, "error": ""}
