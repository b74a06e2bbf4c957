"""The tier-1 tables: counts of consented cases, disclosure-controlled and audited together.

Every table counts distinct cases by year (rows) and one coarse dimension (columns); the
reporting state of each case is its owner. All tables of a summary are protected as one
system, because they count the same cases (projections.audit). Only counts leave this module.
Member states see frozen releases only; the live summary is the secretariat's preview.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cases.kernel.errors import Forbidden
from cases.kernel.viewer import SECRETARIAT, Viewer
from cases.policy.releases import Release, Releases

from .audit import Audit, Equation, Finding, protect_release
from .disclosure import TOTAL, Fact, Grid, Table, Thresholds, primary, table_of, tables_of

DIMENSIONS = ("point_of_diversion", "category", "region", "status")
TRACED, NOT_TRACED = "traced", "not_traced"
IN_TIME, NOT_IN_TIME = "answered_in_time", "not_answered_in_time"
HEADLINE = f"cases|{TOTAL}|{TOTAL}"


@dataclass(frozen=True)
class Summary:
    thresholds: Thresholds
    cases: int | None  # consented cases behind the tables (None: suppressed)
    tables: dict[str, Table]
    traced_share: dict[str, float | None]  # year or "year region" -> share, None if hidden
    report: list[Finding] = field(default_factory=list)  # the secretariat's audit report


def grids(facts: list[dict[str, Any]]) -> list[Grid]:
    """The tables of a summary before protection."""
    years = sorted({str(f["year"]) for f in facts})

    def fact(f: dict[str, Any], row: str, column: str, weight: int = 1) -> Fact:
        return Fact(row, column, f["owner"], str(f.get("case_id", id(f))), weight)

    found = [Grid(d, years, sorted({str(f[d]) for f in facts}),
                  [fact(f, str(f["year"]), str(f[d])) for f in facts]) for d in DIMENSIONS]
    found.append(Grid("items", years, sorted({str(f["category"]) for f in facts}),
                      [fact(f, str(f["year"]), str(f["category"]), int(f["items"]))
                       for f in facts if f["items"]], weighted=True))
    asked = [f for f in facts if f["trace_requested"]]
    asked_years = sorted({str(f["year"]) for f in asked})
    found.append(Grid("traced", asked_years, [TRACED, NOT_TRACED],
                      [fact(f, str(f["year"]), TRACED if f["traced"] else NOT_TRACED)
                       for f in asked]))
    found.append(Grid("traced_by_region", sorted({f"{f['year']} {f['region']}" for f in asked}),
                      [TRACED, NOT_TRACED],
                      [fact(f, f"{f['year']} {f['region']}",
                            TRACED if f["traced"] else NOT_TRACED) for f in asked]))
    found.append(Grid("response", asked_years, [IN_TIME, NOT_IN_TIME],
                      [fact(f, str(f["year"]), IN_TIME if f["answered_in_time"]
                            else NOT_IN_TIME) for f in asked]))
    return found


def links(by_name: dict[str, Grid]) -> tuple[list[Equation], list[Equation]]:
    """What the tables say about each other: equalities, then inequalities (<= 0)."""
    first = by_name[DIMENSIONS[0]]
    equal: list[Equation] = [{HEADLINE: 1, f"{d}|{TOTAL}|{TOTAL}": -1} for d in DIMENSIONS]
    equal += [{f"{d}|{y}|{TOTAL}": 1, f"{first.name}|{y}|{TOTAL}": -1}
              for d in DIMENSIONS[1:] for y in first.rows]
    at_most: list[Equation] = []
    for y in by_name["traced"].rows:
        equal.append({f"traced|{y}|{TOTAL}": 1, f"response|{y}|{TOTAL}": -1})
        at_most.append({f"traced|{y}|{TOTAL}": 1, f"{first.name}|{y}|{TOTAL}": -1})
        for c in (TRACED, NOT_TRACED, TOTAL):
            rows = [r for r in by_name["traced_by_region"].rows if r.split(" ")[0] == y]
            equal.append({**{f"traced_by_region|{r}|{c}": 1 for r in rows},
                          f"traced|{y}|{c}": -1})
        for r in by_name["traced_by_region"].rows:
            year, region = r.split(" ", 1)
            if year == y:
                at_most.append({f"traced_by_region|{r}|{TOTAL}": 1,
                                f"region|{y}|{region}": -1})
    return equal, at_most


def summarise(facts: list[dict[str, Any]], thresholds: Thresholds,
              previous: dict[str, int | None] | None = None) -> Summary:
    """The protected tables of ``facts``; with ``previous`` (the latest edition of the same
    release), a figure it suppressed stays suppressed and one that would move by fewer than
    k cases is suppressed rather than published."""
    tables = grids(facts)
    by_name = {g.name: g for g in tables}
    values, reasons = primary(tables, thresholds)
    values[HEADLINE] = len(facts)
    if HEADLINE.replace("cases", DIMENSIONS[0]) in reasons:
        reasons[HEADLINE] = reasons[HEADLINE.replace("cases", DIMENSIONS[0])]
    for figure, old in (previous or {}).items():
        if figure in values and figure not in reasons:
            if old is None:
                reasons[figure] = "suppressed in an earlier edition"
            elif 0 < abs(values[figure] - old) < thresholds.k:
                reasons[figure] = f"moved by fewer than {thresholds.k} since the last edition"
    equal, at_most = links(by_name)
    audit = Audit(list(values), [e for g in tables for e in g.equations()] + equal, at_most)
    weighted = {f"items|{r}|{c}" for r in [*by_name["items"].rows, TOTAL]
                for c in [*by_name["items"].columns, TOTAL]}
    protection = {f: (max(thresholds.protection,
                          -(-v * (100 - thresholds.dominance) // 100)) if f in weighted
                      else thresholds.protection) for f, v in values.items()}
    published, report = protect_release(audit, values, reasons, protection)
    shown = {g.name: table_of(g, published) for g in tables}
    share = {**_shares(shown["traced"]), **_shares(shown["traced_by_region"])}
    return Summary(thresholds, published[HEADLINE], shown, share, report)


def preview(viewer: Viewer, facts: list[dict[str, Any]], thresholds: Thresholds) -> Summary:
    """The live tables, for the secretariat only: a table that moves one case at a time
    would let a member difference it, so members read frozen releases."""
    if not viewer.has(SECRETARIAT):
        raise Forbidden("Member states read the frozen releases; the live preview is the "
                        "secretariat's.")
    return summarise(facts, thresholds)


def from_release(edition: dict[str, Any]) -> Summary:
    """A release's edition as a summary to show (what member states read)."""
    published = dict(edition["figures"])
    rules = {k: v for k, v in edition.get("rules", {}).items()
             if k in Thresholds.__dataclass_fields__}
    shown = tables_of({f: v for f, v in published.items() if not f.startswith("cases|")})
    share = {}
    for name in ("traced", "traced_by_region"):
        if name in shown:
            share.update(_shares(shown[name]))
    return Summary(Thresholds(**rules), published.get(HEADLINE), shown, share)


def publish(releases: Releases, viewer: Viewer, facts: list[dict[str, Any]],
            thresholds: Thresholds, year: int, this_year: int) -> Release:
    """Freezes the year's tables (or corrects them), audited with the edition they follow."""
    summary = summarise([f for f in facts if f["year"] == year], thresholds,
                        releases.latest(year))
    return releases.publish(viewer, year, asdict(thresholds), figures(summary),
                            [f.as_record() for f in summary.report], this_year)


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
    release freezes them; the headline is "cases|total|total"."""
    flat: dict[str, int | None] = {HEADLINE: summary.cases}
    for name, table in summary.tables.items():
        for (row, column), value in table.cells.items():
            flat[f"{name}|{row}|{column}"] = value
        for row, value in table.row_totals.items():
            flat[f"{name}|{row}|{TOTAL}"] = value
        for column, value in table.column_totals.items():
            flat[f"{name}|{TOTAL}|{column}"] = value
        flat[f"{name}|{TOTAL}|{TOTAL}"] = table.total
    return flat
