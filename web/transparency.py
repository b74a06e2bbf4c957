"""The log in the C2SP formats: its static tiles (c2sp.org/tlog-tiles), the member states'
witness endpoint (c2sp.org/tlog-witness) and each state's receipts of the events it signed.

Who reads what: the tiles, entries and checkpoint hold hashes and the log's size only (no
header, no content), the log metadata auditors already read, so the auditors of every state
and of the secretariat read them, in the browser or with an API token (``Authorization:
Bearer``), as a tlog-tiles mirror or monitor would. A witness cosigns with its state's key,
which only a user of the state unlocks: ``add-checkpoint`` takes an auditor's API token
(never the session cookie: no form posts there). Answers are plain text, as the specs say.
"""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cases.audit.audit_service import require_auditor
from cases.kernel.errors import AuthenticationFailed, DivexError, NotFound
from cases.kernel.viewer import Viewer
from crypto import CryptoError
from crypto.tiles import parse_index, parse_level
from crypto.tlog import WitnessRefusal, parse_add_checkpoint

from .extensions import caught_up_exchange, current_viewer, get_exchange
from .messages import refusal

bp = Blueprint("transparency", __name__)

IMMUTABLE = "private, max-age=31536000, immutable"  # private: behind a sign-in or a token
CHECKPOINT_CACHE = "private, max-age=5"  # tlog-tiles: the checkpoint changes; seconds only
TEXT = "text/plain; charset=utf-8"


def _viewer(token_only: bool = False) -> Viewer:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return get_exchange().api_tokens.authenticate(token.strip())
    if not token_only and current_user.is_authenticated:
        return current_viewer()
    raise AuthenticationFailed("Send an API token: Authorization: Bearer <token>.")


def _auditor() -> Viewer:
    viewer = _viewer()
    require_auditor(viewer)
    return viewer


@bp.errorhandler(DivexError)
def plain_refusal(error: DivexError) -> Response:
    return Response(refusal(error) + "\n", error.status, content_type=TEXT)


@bp.get("/checkpoint")
def checkpoint() -> Response:
    _auditor()
    note = caught_up_exchange().tiles.checkpoint().note()
    return Response(note.to_bytes(), content_type=TEXT,
                    headers={"Cache-Control": CHECKPOINT_CACHE})


@bp.get("/tile/<level>/<path:index>")
def tile(level: str, index: str) -> Response:
    _auditor()
    try:
        number, width = parse_index(index)
        tiles = caught_up_exchange().tiles
        data = tiles.entries(number, width) if level == "entries" \
            else tiles.tile(parse_level(level), number, width)
    except CryptoError as error:
        raise NotFound("No such tile: %(reason)s.", reason=str(error)) from None
    return Response(data, content_type="application/octet-stream",
                    headers={"Cache-Control": IMMUTABLE})


@bp.post("/witness/add-checkpoint")
def add_checkpoint() -> Response:
    viewer = _viewer(token_only=True)
    exchange = caught_up_exchange()
    try:
        submitted = parse_add_checkpoint(request.get_data())
        cosigned = exchange.witness.add_checkpoint(viewer, submitted)
    except WitnessRefusal as refused:
        return _witness_refusal(refused)
    except CryptoError as error:
        return Response(_("Not an add-checkpoint request: %(reason)s", reason=str(error))
                        + "\n", 400, content_type=TEXT)
    return Response(cosigned.cosignature.line().line(), content_type=TEXT)


def _witness_refusal(refused: WitnessRefusal) -> Response:
    if refused.status == 409:  # tlog-witness: the size it knows, alone, in its own type
        return Response(f"{refused.known_size}\n", 409, content_type="text/x.tlog.size")
    messages = {
        400: _("The request is malformed: %(reason)s"),
        403: _("The checkpoint is not signed by this log's key: %(reason)s"),
        404: _("This witness follows only this exchange's log: %(reason)s"),
        422: _("The checkpoint does not extend the one this witness cosigned: %(reason)s"),
    }
    message = messages.get(refused.status, "%(reason)s")
    return Response(message % {"reason": str(refused)} + "\n", refused.status,
                    content_type=TEXT)


@bp.get("/cases/<uuid:case_id>/receipts/<int:version>")
@login_required
def receipt(case_id: UUID, version: int) -> Response:
    """The tlog-proof of one event of the case that the viewer's state signed."""
    viewer, exchange = current_viewer(), caught_up_exchange()
    row = next((r for r in exchange.audit_index.view.events_of(str(case_id))
                if r.version == version and r.actor_state == viewer.state), None)
    if row is None:
        raise NotFound("Your state signed no version %(version)s of this case.",
                       version=version)
    name = f"case-{case_id}-v{version}.tlog-proof"
    return Response(exchange.receipt(row.notification_id), content_type=TEXT,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
