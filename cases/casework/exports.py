"""The cases a reader can read as CSV, one row per item (STIX: `cases.casework.stix`).

It takes the `CaseView`s the `Cases` service opened for the viewer, so it holds exactly what
the viewer's pages show.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from cases.casework.content import ITEM
from cases.casework.view import CaseView

ITEM_FIELDS = tuple(spec.name for spec in ITEM)  # a CSV cell holds a line's serials, one per line
CASE_COLUMNS = ("case_id", "title", "status", "tier", "owner", "point_of_diversion")
# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cases_csv(views: list[CaseView]) -> str:
    """One row per item (a case without items gets one row with empty item columns).

    A cell that a spreadsheet would run as a formula is prefixed with an apostrophe.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CASE_COLUMNS, *ITEM_FIELDS])
    for view in views:
        case = [view.id, view.title, view.status, view.tier, view.owner,
                view.summary.get("point_of_diversion", "")]
        for item in view.items.values() or [{}]:
            writer.writerow([_cell(v) for v in (*case, *(item.get(k) for k in ITEM_FIELDS))])
    return out.getvalue()


def _cell(value: Any) -> str:
    text = " ".join(map(str, value)) if isinstance(value, list) else \
        ("" if value is None else str(value))
    return f"'{text}" if text.startswith(FORMULA_START) else text
