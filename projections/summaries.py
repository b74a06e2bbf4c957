"""The published tier-1 tables: counts of consented cases, disclosure-controlled.

Every table counts distinct cases by year (rows) and one coarse dimension (columns); the
reporting state of each case is its owner. Only counts leave this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .disclosure import Fact, Table, Thresholds, protect

DIMENSIONS = ("point_of_diversion", "category", "region", "status")
TRACED, NOT_TRACED = "traced", "not_traced"
IN_TIME, NOT_IN_TIME = "answered_in_time", "not_answered_in_time"


@dataclass(frozen=True)
class Summary:
    thresholds: Thresholds
    cases: int  # consented cases behind the tables (itself shown only if >= k)
    tables: dict[str, Table]
    traced_share: dict[str, float | None]  # year or "year region" -> share, None if hidden


def summarise(facts: list[dict[str, Any]], thresholds: Thresholds) -> Summary:
    years = sorted({str(f["year"]) for f in facts})
    tables = {}
    for dimension in DIMENSIONS:
        columns = sorted({str(f[dimension]) for f in facts})
        tables[dimension] = protect(
            [Fact(str(f["year"]), str(f[dimension]), f["owner"]) for f in facts],
            years, columns, thresholds)
    asked = [f for f in facts if f["trace_requested"]]
    tables["traced"] = protect(
        [Fact(str(f["year"]), TRACED if f["traced"] else NOT_TRACED, f["owner"]) for f in asked],
        sorted({str(f["year"]) for f in asked}), [TRACED, NOT_TRACED], thresholds)
    by_region = sorted({f"{f['year']} {f['region']}" for f in asked})
    tables["traced_by_region"] = protect(
        [Fact(f"{f['year']} {f['region']}", TRACED if f["traced"] else NOT_TRACED, f["owner"])
         for f in asked], by_region, [TRACED, NOT_TRACED], thresholds)
    tables["response"] = protect(
        [Fact(str(f["year"]), IN_TIME if f["answered_in_time"] else NOT_IN_TIME, f["owner"])
         for f in asked], sorted({str(f["year"]) for f in asked}), [IN_TIME, NOT_IN_TIME],
        thresholds)
    share = {**_shares(tables["traced"]), **_shares(tables["traced_by_region"])}
    count = len(facts) if len(facts) >= thresholds.k else 0
    return Summary(thresholds, count, tables, share)


def _shares(table: Table) -> dict[str, float | None]:
    """The SDG 16.4.2-style share of traced cases per row, where both counts are published."""
    shares: dict[str, float | None] = {}
    for row in table.rows:
        traced, other = table.cells[(row, TRACED)], table.cells[(row, NOT_TRACED)]
        known = traced is not None and other is not None and traced + other > 0
        shares[row] = traced / (traced + other) if known else None  # type: ignore[operator]
    return shares


def figures(summary: Summary) -> dict[str, int | None]:
    """Every published figure as "table|row|column" -> count (None: suppressed), as a
    release freezes them."""
    flat: dict[str, int | None] = {}
    for name, table in summary.tables.items():
        for (row, column), value in table.cells.items():
            flat[f"{name}|{row}|{column}"] = value
        for row, value in table.row_totals.items():
            flat[f"{name}|{row}|total"] = value
        for column, value in table.column_totals.items():
            flat[f"{name}|total|{column}"] = value
        flat[f"{name}|total|total"] = table.total
    return flat
