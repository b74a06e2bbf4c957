"""Tier-1 policy summaries: the public face of the exchange, counts only.

Member states and the subgroup read the frozen releases; the secretariat also sees the live
preview (same rules) and each release's audit report. No page here touches a case.
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
from cases.kernel.viewer import SECRETARIAT, Viewer
from cases.policy.releases import Release
from projections.summaries import DIMENSIONS, Summary, figures, from_release, preview, publish

from .charts import bar_chart, share_chart
from .extensions import caught_up_exchange, current_viewer, get_exchange
from .labels import label

bp = Blueprint("summaries", __name__, url_prefix="/summaries")


ORDER = [*DIMENSIONS, "items", "traced", "traced_by_region", "response"]


def current_summary(viewer: Viewer) -> Summary:
    """The live preview (the secretariat's only: members get Forbidden)."""
    exchange = caught_up_exchange()
    return preview(viewer, exchange.policy_summary.included(),
                   exchange.thresholds)


def shown(year: int | None) -> tuple[Summary | None, Release | None]:
    """What the viewer reads: a release (the given year's, else the latest), or for the
    secretariat without a year, the live preview."""
    releases = get_exchange().releases.all()
    if year is None and current_viewer().has(SECRETARIAT):
        return current_summary(current_viewer()), None
    release = next((r for r in releases if r.year == year), None) if year is not None \
        else (releases[-1] if releases else None)
    if year is not None and release is None:
        raise NotFound("No release for %(year)s.", year=year)
    return (from_release(release.editions[-1]), release) if release else (None, None)


def table_titles() -> dict[str, str]:
    return {"point_of_diversion": _("Cases by point of diversion and year"),
            "category": _("Cases by category and year"),
            "region": _("Cases by region of discovery and year"),
            "status": _("Cases by status and year"),
            "traced": _("Trace requests: origin traced, by year"),
            "traced_by_region": _("Trace requests: origin traced, by year and region"),
            "response": _("Trace requests answered within the deadline, by year"),
            "items": _("Items by category and year")}


def chart_titles() -> dict[str, str]:
    return {**table_titles(), "traced": _("Share of traced cases (SDG 16.4.2-style)")}


@bp.get("/")
@login_required
def index() -> str:
    summary, release = shown(request.args.get("year", type=int))
    charts: dict[str, str | None] = {}
    if summary is not None:
        labels = {c: str(label(c)) for t in summary.tables.values() for c in t.columns}
        charts = {name: bar_chart(summary.tables[name], chart_titles()[name], labels,
                                  _("cases"))
                  for name in ("point_of_diversion", "category") if name in summary.tables}
        charts["traced"] = share_chart(
            {y: s for y, s in summary.traced_share.items() if " " not in y},
            chart_titles()["traced"], _("% traced"))
    findings = release.editions[-1]["audit"] if release else \
        [f.as_record() for f in summary.report] if summary else []
    return render_template("summaries/index.html", summary=summary, release=release,
                           charts=charts, findings=findings, releases=get_exchange().releases.all(),
                           thresholds=get_exchange().thresholds, titles=table_titles(),
                           chart_titles=chart_titles(),
                           order=ORDER)


@bp.get("/print")
@login_required
def printable() -> str:
    """A release (or, for the secretariat, the preview) to print or save as PDF."""
    summary, release = shown(request.args.get("year", type=int))
    return render_template("summaries/print.html", summary=summary, release=release,
                           titles=table_titles(), order=ORDER, generated=datetime.now(UTC))


@bp.get("/tables.csv")
@login_required
def tables_csv() -> Response:
    """The preview's tables (secretariat), one row per figure; suppressed figures say so."""
    return _csv(figures(current_summary(current_viewer())), "divex-tier1-summaries.csv")


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
    """Freezes the year's tables, audited (the page's and the API's way)."""
    exchange = caught_up_exchange()
    return publish(exchange.releases, viewer, exchange.policy_summary.included(),
                   exchange.thresholds, year, datetime.now(UTC).year)


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
