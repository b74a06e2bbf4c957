"""Auditors' pages: the log browser, one event's detail, checkpoints, and time travel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from cases.audit.audit_service import AuditedEvent, require_auditor
from cases.audit.log import merkle_leaf
from cases.casework.content import parse_moment
from cases.casework.view import CaseView, HistoryEntry
from cases.kernel.errors import InvalidInput, NotFound
from cases.kernel.viewer import AUDITOR, SECRETARIAT, Viewer
from crypto import CryptoError
from crypto.merkle import verify_inclusion
from projections.audit_index import AuditFilter, AuditRow

from .extensions import caught_up_exchange, current_viewer, get_exchange
from .forms import page_number
from .messages import refusal

bp = Blueprint("audit", __name__, url_prefix="/audit")

FILTERS = ("aggregate_id", "aggregate_kind", "actor_state", "user", "event_type", "since",
           "until")


@bp.before_request
@login_required
def auditors_only() -> None:
    require_auditor(current_viewer())


def log_filter(args: Any) -> AuditFilter:
    user_id = ""
    if args.get("user", "").strip():
        try:
            user_id = str(get_exchange().directory.user(args["user"].strip()).id)
        except NotFound:
            raise InvalidInput("No user named '%(name)s'.", field="user",
                               name=args["user"].strip()) from None
    return AuditFilter(aggregate_id=args.get("aggregate_id", "").strip(),
                       aggregate_kind=args.get("aggregate_kind", "").strip(),
                       actor_state=args.get("actor_state", "").strip().upper(),
                       actor_user=user_id, event_type=args.get("event_type", "").strip(),
                       since=parse_moment(args.get("since", ""), "since"),
                       until=parse_moment(args.get("until", ""), "until", end_of_day=True))


@bp.get("/")
def index() -> tuple[str, int]:
    exchange = caught_up_exchange()
    page = page_number()
    size = 50
    error, rows, total = None, [], 0
    try:
        rows, total = exchange.audit_index.view.browse(log_filter(request.args),
                                                       offset=(page - 1) * size, limit=size)
    except InvalidInput as refused:
        error = refused
    return render_template(
        "audit/log.html", rows=rows, total=total, page=page, pages=max(1, -(-total // size)),
        args=request.args, filters={k: v for k, v in request.args.items() if k in FILTERS},
        checkpoints=exchange.checkpoints.all()[-5:][::-1],
        may_checkpoint=current_viewer().has(SECRETARIAT) or current_viewer().has(AUDITOR),
        error_field=error.field if error else None,
        error=refusal(error) if error else None), (error.status if error else 200)


@bp.post("/verify")
def verify() -> str:
    exchange = caught_up_exchange()
    result = exchange.audit.verify(current_viewer(), exchange.checkpoints.for_audit(),
                                   witnesses=exchange.external_witnesses.verifiers())
    return render_template("audit/verified.html", result=result)


@bp.post("/checkpoint")
def checkpoint() -> Response:
    exchange = caught_up_exchange()
    made = exchange.checkpointer.record()
    flash(_("Checkpoint of %(size)s events signed.", size=made.size), "success")
    return redirect(url_for("audit.index"))


@bp.post("/cosign")
def cosign() -> Response:
    cosigned = get_exchange().witness.cosign(current_viewer())
    if cosigned is None:
        flash(_("Your state has already cosigned the newest checkpoint."), "info")
    else:
        flash(_("Your state cosigned the checkpoint of %(size)s events.", size=cosigned.size),
              "success")
    return redirect(url_for("audit.index"))


@bp.get("/events/<int:notification_id>")
def event(notification_id: int) -> str:
    exchange = caught_up_exchange()
    row, detail = audited_event(exchange, current_viewer(), notification_id)
    return render_template("audit/event.html", row=row, detail=detail,
                           included=inclusion(exchange, row))


def audited_event(exchange: Any, viewer: Viewer, notification_id: int,
                  ) -> tuple[AuditRow, AuditedEvent]:
    """The event's index row and its checked detail, linked to its record's neighbours
    (`exchange` caught up)."""
    # The stores keep 64-bit integers: a larger id names no event (and SQLite cannot bind it).
    row = exchange.audit_index.view.row(notification_id) if notification_id < 2**63 else None
    if row is None:
        raise NotFound("No event with notification id %(id)s.", id=notification_id)
    versions = [r.notification_id for r in exchange.audit_index.view.events_of(row.aggregate_id)]
    at = versions.index(notification_id)
    neighbours = (versions[at - 1] if at else None,
                  versions[at + 1] if at + 1 < len(versions) else None)
    return row, exchange.audit.event(viewer, notification_id, neighbours)


def inclusion(exchange: Any, row: Any) -> dict[str, Any] | None:
    """The newest checkpoint covering the event, and whether the inclusion proof holds."""
    latest = exchange.checkpoints.latest()
    if latest is None or latest.size <= row.position:
        return None
    proof = exchange.checkpointer.inclusion(row.position, latest.size)
    try:
        verify_inclusion(merkle_leaf(row.event_hash), row.position, latest.size, proof,
                         bytes.fromhex(latest.root))
        holds = True
    except CryptoError:
        holds = False
    return {"checkpoint": latest, "proof": [p.hex() for p in proof], "holds": holds}


@bp.get("/cases/<uuid:case_id>")
def case_at(case_id: UUID) -> tuple[str, int]:
    """Time travel: the case as it was at a moment, as far as the auditor's state may read."""
    exchange, viewer = caught_up_exchange(), current_viewer()
    error = None
    try:
        when = parse_moment(request.args.get("at", ""), "at") or datetime.now(UTC)
    except InvalidInput as refused:
        error, when = refused, datetime.now(UTC)
    version, case, history, readers = case_as_it_was(exchange, viewer, case_id, when)
    thread = exchange.contributions.thread(viewer, case_id, when, version,
                                           audit=True) if case else []
    return render_template("audit/case_at.html", case=case, history=history, case_id=case_id,
                           contributions=thread,
                           when=when, version=version, readers=readers,
                           error=refusal(error) if error else None), \
        (error.status if error else 200)


def case_as_it_was(exchange: Any, viewer: Viewer, case_id: UUID, when: datetime,
                   ) -> tuple[int, CaseView | None, list[HistoryEntry], list[str]]:
    """The case's version at ``when``, the case then (None if the viewer's state cannot read
    it), its history up to then, and the states that could read it then."""
    version = exchange.audit_index.view.version_at(str(case_id), when)
    if version is None:
        raise NotFound("The case did not exist yet at that moment.")
    history = exchange.cases.history(viewer, case_id, version=version)
    try:
        case = exchange.cases.view(viewer, case_id, version=version)
    except NotFound:
        case = None  # the auditor's state cannot read it: clear headers only
    return version, case, history, exchange.access_ledger.view.readers_at(str(case_id), when)


@bp.get("/access")
def access() -> tuple[str, int]:
    """What a state could read at a moment, from the access ledger."""
    exchange = caught_up_exchange()
    state = request.args.get("state", "").strip().upper()
    error, rows, when = None, [], None
    try:
        when = parse_moment(request.args.get("at", ""), "at") or datetime.now(UTC)
        if state:
            rows = exchange.access_ledger.view.access_of(state, when)
    except InvalidInput as refused:
        error = refused
    return render_template("audit/access.html", state=state, when=when, rows=rows,
                           error=refusal(error) if error else None), \
        (error.status if error else 200)
