"""Tier-1 policy summaries: the public face of the exchange, counts only.

Every signed-in user sees the same disclosure-controlled tables and charts; no page here
touches a case.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from cases.kernel.errors import InvalidInput, NotFound
from cases.kernel.viewer import Viewer
from cases.policy.releases import Release
from projections.summaries import DIMENSIONS, Summary, figures, summarise

from .charts import bar_chart, share_chart
from .extensions import caught_up_exchange, current_viewer, get_exchange
from .labels import label

bp = Blueprint("summaries", __name__, url_prefix="/summaries")


def current_summary() -> Summary:
    exchange = caught_up_exchange()
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
                           releases=get_exchange().releases.all(),
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
    """Every published table, one row per figure; suppressed figures say so, never a number."""
    return _csv(figures(current_summary()), "divex-tier1-summaries.csv")


@bp.get("/releases/<int:year>.csv")
@login_required
def release_csv(year: int) -> Response:
    release = next((r for r in get_exchange().releases.all() if r.year == year), None)
    if release is None:
        raise NotFound("No release for %(year)s.", year=year)
    return _csv(release.editions[-1]["figures"], f"divex-tier1-release-{year}.csv")


@bp.post("/releases")
@login_required
def publish_release() -> Any:
    """The secretariat freezes a closed year's tables (or corrects them)."""
    try:
        year = int(request.form.get("year", ""))
    except ValueError:
        raise InvalidInput("Give the year to release, e.g. 2025.", field="year") from None
    release = publish_year(current_viewer(), year)
    flash(_("Release of %(year)s published (edition %(n)s).", year=year,
            n=len(release.editions)), "success")
    return redirect(url_for("summaries.index", _anchor="releases"))


def publish_year(viewer: Viewer, year: int) -> Release:
    """Freezes the year's tables as they are published now (the page's and the API's way)."""
    exchange = caught_up_exchange()
    facts = [f for f in exchange.policy_summary.view.included() if f["year"] == year]
    return exchange.releases.publish(viewer, year, exchange.thresholds.k,
                                     exchange.thresholds.min_reporters,
                                     figures(summarise(facts, exchange.thresholds)),
                                     datetime.now(UTC).year)


def _csv(published: dict[str, Any], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["table", "row", "column", "cases"])
    for name, value in published.items():
        writer.writerow([*name.split("|"), _cell(value)])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def _cell(value: Any) -> str:
    return "suppressed" if value is None else str(value)


@bp.post("/cases/<uuid:case_id>/propose")
@login_required
def propose(case_id: UUID) -> Any:
    """The owner proposes the case's coarse facts for the summaries (or refreshes them)."""
    waiting = get_exchange().policy.propose(current_viewer(), case_id)
    flash(_("Proposed for the tier-1 summaries. Awaiting the consent of: %(states)s.",
            states=", ".join(waiting) or "—"), "success")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="policy"))


@bp.post("/cases/<uuid:case_id>/consent")
@login_required
def consent(case_id: UUID) -> Any:
    given = request.form.get("given") == "yes"
    get_exchange().policy.consent(current_viewer(), case_id, given)
    flash(_("Your state's consent is recorded.") if given
          else _("Your state's consent is withdrawn: the case leaves the summaries."), "success")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="policy"))
