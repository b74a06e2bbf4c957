"""Tier-1 policy summaries: the public face of the exchange, counts only.

Every signed-in user sees the same disclosure-controlled tables and charts; no page here
touches a case.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, render_template
from flask_babel import gettext as _
from flask_login import login_required

from projections.summaries import DIMENSIONS, Summary, summarise

from .charts import bar_chart, share_chart
from .extensions import get_exchange
from .labels import label

bp = Blueprint("summaries", __name__, url_prefix="/summaries")


def current_summary() -> Summary:
    exchange = get_exchange()
    exchange.follow()
    return summarise(exchange.policy_summary.view.included(), exchange.thresholds)


def table_titles() -> dict[str, str]:
    return {"point_of_diversion": _("Cases by point of diversion and year"),
            "category": _("Cases by category and year"),
            "region": _("Cases by region of discovery and year"),
            "status": _("Cases by status and year"),
            "traced": _("Trace requests: origin traced, by year"),
            "traced_by_region": _("Trace requests: origin traced, by year and region"),
            "response": _("Trace requests answered within the deadline, by year")}


@bp.get("/")
@login_required
def index() -> str:
    summary = current_summary()
    labels = {c: str(label(c)) for t in summary.tables.values() for c in t.columns}
    charts = {
        "point_of_diversion": bar_chart(summary.tables["point_of_diversion"],
                                        table_titles()["point_of_diversion"], labels,
                                        _("cases")),
        "category": bar_chart(summary.tables["category"], table_titles()["category"], labels,
                              _("cases")),
        "traced": share_chart({y: s for y, s in summary.traced_share.items() if " " not in y},
                              _("Share of traced cases (SDG 16.4.2-style)"), _("% traced")),
    }
    return render_template("summaries/index.html", summary=summary, charts=charts,
                           titles=table_titles(), order=[*DIMENSIONS, "traced",
                                                         "traced_by_region", "response"])


@bp.get("/print")
@login_required
def printable() -> str:
    """The summary for the subgroup, to print or save as PDF, with date and thresholds."""
    summary = current_summary()
    return render_template("summaries/print.html", summary=summary, titles=table_titles(),
                           order=[*DIMENSIONS, "traced", "traced_by_region", "response"],
                           generated=datetime.now(UTC))


@bp.get("/tables.csv")
@login_required
def tables_csv() -> Response:
    """Every published table, one row per cell; suppressed cells say so, never a number."""
    summary = current_summary()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["table", "row", "column", "cases"])
    for name, table in summary.tables.items():
        for row in table.rows:
            for column in table.columns:
                writer.writerow([name, row, column, _cell(table.cells[(row, column)])])
            writer.writerow([name, row, "total", _cell(table.row_totals[row])])
        for column in table.columns:
            writer.writerow([name, "total", column, _cell(table.column_totals[column])])
        writer.writerow([name, "total", "total", _cell(table.total)])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=divex-tier1-summaries.csv"})


def _cell(value: Any) -> str:
    return "suppressed" if value is None else str(value)
