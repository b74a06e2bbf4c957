"""API operations for auditors, as on the audit pages: the log's metadata with filters, one
event checked with its inclusion proof, checkpoints (list, sign one now, cosign the newest),
verifying the whole log, a case as it was at a moment with its readers then, and what a state
could read at a moment. Every operation refuses users without the auditor role (403)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from flask import Blueprint
from werkzeug.datastructures import MultiDict

from cases.audit.audit_service import require_auditor
from cases.casework.content import parse_moment
from cases.kernel.viewer import Viewer

from ..audit import audited_event, case_as_it_was, inclusion, log_filter
from ..extensions import caught_up_exchange, get_exchange
from .oversight_schemas import (
    AccessOut,
    AccessQuery,
    AccessRowOut,
    AuditEventOut,
    AuditPage,
    AuditQuery,
    AuditRowOut,
    CaseAtOut,
    CheckpointOut,
    CheckpointPage,
    CosignOut,
    MomentQuery,
    VerificationOut,
)
from .schemas import CaseOut, HistoryEntryOut, PageQuery
from .spec import operation

bp = Blueprint("audit", __name__)

AUDITORS = (403,)


def _moment(text: str) -> datetime:
    return parse_moment(text, "at") or datetime.now(UTC)


@operation(bp, "GET", "/audit/events", summary="The log's events (clear headers), newest "
           "first", tag="audit", query=AuditQuery, response=AuditPage, errors=AUDITORS)
def audit_events(viewer: Viewer, query: AuditQuery) -> AuditPage:
    require_auditor(viewer)
    exchange = caught_up_exchange()
    where = log_filter(MultiDict(query.model_dump(exclude={"page", "per_page"})))
    rows, total = exchange.audit_index.view.browse(
        where, offset=(query.page - 1) * query.per_page, limit=query.per_page)
    withheld = exchange.audit.withheld(viewer, rows)
    return AuditPage(page=query.page, per_page=query.per_page, total=total,
                     items=[AuditRowOut.of(r, withheld=r.aggregate_id in withheld) for r in rows])


@operation(bp, "GET", "/audit/events/<int:notification_id>", summary="One event: header, "
           "body digest, signature and chain checks, inclusion proof", tag="audit",
           response=AuditEventOut, errors=(403, 404))
def audit_event(viewer: Viewer, notification_id: int) -> AuditEventOut:
    require_auditor(viewer)
    exchange = caught_up_exchange()
    row, detail = audited_event(exchange, viewer, notification_id)
    return AuditEventOut.of(row, detail, inclusion(exchange, row))


@operation(bp, "GET", "/audit/checkpoints", summary="Signed checkpoints of the log, newest "
           "first, with the states' cosignatures", tag="audit", query=PageQuery,
           response=CheckpointPage, errors=AUDITORS)
def list_checkpoints(viewer: Viewer, query: PageQuery) -> CheckpointPage:
    require_auditor(viewer)
    exchange = caught_up_exchange()
    found = exchange.checkpoints.all()[::-1]
    return CheckpointPage(page=query.page, per_page=query.per_page, total=len(found),
                          items=[CheckpointOut.model_validate(c) for c in query.window(found)])


@operation(bp, "POST", "/audit/checkpoints", summary="Sign a checkpoint of the whole log "
           "now", tag="audit", response=CheckpointOut, status=201, errors=(403, 409))
def make_checkpoint(viewer: Viewer) -> CheckpointOut:
    require_auditor(viewer)
    exchange = caught_up_exchange()
    return CheckpointOut.model_validate(exchange.checkpointer.record())


@operation(bp, "POST", "/audit/cosignatures", summary="Cosign the newest checkpoint as "
           "your state, once it extends the last one your state cosigned", tag="audit",
           response=CosignOut, errors=(403, 409))
def cosign_checkpoint(viewer: Viewer) -> CosignOut:
    require_auditor(viewer)
    exchange = get_exchange()
    cosigned = exchange.witness.cosign(viewer)
    # Read again from the store: the checkpoint with the cosignature just added.
    latest = exchange.checkpoints.get(cosigned.size) if cosigned \
        else exchange.checkpoints.latest()
    return CosignOut(cosigned=cosigned is not None,
                     checkpoint=CheckpointOut.model_validate(latest) if latest else None)


@operation(bp, "POST", "/audit/verification", summary="Verify the whole log: chains, "
           "signatures, checkpoints and cosignatures", tag="audit",
           response=VerificationOut, errors=AUDITORS)
def verify_log(viewer: Viewer) -> VerificationOut:
    require_auditor(viewer)
    exchange = caught_up_exchange()
    verification = exchange.audit.verify(viewer, exchange.checkpoints.for_audit(),
                                         witnesses=exchange.external_witnesses.verifiers())
    return VerificationOut.model_validate(verification)


@operation(bp, "GET", "/audit/cases/<uuid:case_id>", summary="A case as it was at a "
           "moment: its readers then, and its content where your state may read it",
           tag="audit", query=MomentQuery, response=CaseAtOut, errors=(403, 404))
def case_at(viewer: Viewer, case_id: UUID, query: MomentQuery) -> CaseAtOut:
    require_auditor(viewer)
    exchange = caught_up_exchange()
    when = _moment(query.at)
    version, case, history, readers = case_as_it_was(exchange, viewer, case_id, when)
    return CaseAtOut(case_id=str(case_id), at=when, version=version, readers=readers,
                     case=CaseOut.model_validate(case) if case else None,
                     history=[HistoryEntryOut.model_validate(e) for e in history])


@operation(bp, "GET", "/audit/access", summary="Every record a state could read at a "
           "moment, with the key versions it held", tag="audit", query=AccessQuery,
           response=AccessOut, errors=AUDITORS)
def state_access(viewer: Viewer, query: AccessQuery) -> AccessOut:
    require_auditor(viewer)
    exchange = caught_up_exchange()
    when, state = _moment(query.at), query.state.strip().upper()
    rows = exchange.access_ledger.view.access_of(state, when)
    return AccessOut(state=state, at=when, page=query.page, per_page=query.per_page,
                     total=len(rows),
                     items=[AccessRowOut.model_validate(r) for r in query.window(rows)])
