"""Trace requests: each state's board of incoming and outgoing requests, and a request's page."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from flask import Blueprint, render_template
from flask_login import login_required

from .extensions import current_viewer, get_exchange

bp = Blueprint("traces", __name__, url_prefix="/traces")


@bp.get("/")
@login_required
def board() -> str:
    exchange = get_exchange()
    exchange.follow()
    viewer = current_viewer()
    view = exchange.trace_board.view
    board = view.board_for(viewer.state, datetime.now(UTC))
    stats = [s for s in view.pair_stats() if viewer.state in (s.requester, s.requested)]
    return render_template("traces/board.html", board=board, stats=stats)


@bp.get("/<uuid:trace_id>")
@login_required
def show(trace_id: UUID) -> str:
    trace = get_exchange().traces.view(current_viewer(), trace_id)
    return render_template("traces/trace.html", trace=trace)
