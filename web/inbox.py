"""The inbox page: what happened that concerns the user's state (or the user), newest first,
with a filter by kind and read markers; and the unread count of the navigation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from cases.kernel.errors import InvalidInput
from cases.kernel.viewer import Viewer
from cases.notifications.kinds import KINDS, kinds_seen_by
from projections.inbox_view import InboxItem, Moment

from .auth import safe_next
from .extensions import caught_up_exchange, current_viewer, get_exchange
from .forms import page_number

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

PAGE_SIZE = 30


def moment_of(exchange: Any, viewer: Viewer) -> Moment:
    """Now, in the deployment's time zone, with the newest checkpoint if the viewer is asked
    to cosign it (others are not: every page counts their unread items)."""
    cosigns = bool(KINDS["checkpoint_to_cosign"].audience & viewer.roles)
    return Moment(datetime.now(UTC), exchange.settings.zone,
                  exchange.checkpoints.latest() if cosigns else None)


def kinds_of(viewer: Viewer) -> list[str]:
    """The kinds the viewer may filter by: their roles' and their own."""
    return [*kinds_seen_by(viewer.roles),
            *(name for name, kind in KINDS.items() if not kind.audience)]


def chosen_kind(viewer: Viewer, kind: str) -> str:
    """The kind filter: "" for all; an unknown kind is refused, and a kind the viewer never
    sees filters down to nothing (``"-"``: no item has it)."""
    if kind and kind not in KINDS:
        raise InvalidInput("Unknown kind of item: %(kind)s.", field="kind", kind=kind[:40])
    return kind if not kind or kind in kinds_of(viewer) else "-"


def link_of(item: InboxItem) -> str:
    """Where an item leads: the record it is about."""
    if item.trace_id:
        return url_for("traces.show", trace_id=item.trace_id)
    if item.kind == "private_hit":
        return url_for("hits.show", hit_id=item.ref)
    if item.case_id and item.kind == "contribution_added":
        return url_for("cases.show", case_id=item.case_id, _anchor=f"contribution-{item.ref}")
    if item.case_id and item.kind in ("case_shared", "policy_consent_awaited"):
        return url_for("cases.show", case_id=item.case_id)
    if item.meeting_id:
        return url_for("meetings.show", meeting_id=item.meeting_id)
    return url_for({"checkpoint_to_cosign": "audit.index", "state_registered": "admin.states",
                    "user_added": "admin.users",
                    "second_factor_reset": "second_factor.security",
                    "new_sign_in_place": "second_factor.security"}.get(item.kind, "index"))


@bp.get("/")
@login_required
def index() -> str:
    exchange, viewer = caught_up_exchange(), current_viewer()
    kind = chosen_kind(viewer, request.args.get("kind", ""))
    page = page_number()
    items, total = exchange.inbox.view.items_for(viewer, moment_of(exchange, viewer), kind=kind,
                                                 offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    titles = exchange.cases.titles(viewer, [i for i in items if i.title_token])
    return render_template("inbox/index.html", items=items, titles=titles, kinds=kinds_of(viewer),
                           kind=kind, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), link_of=link_of, KINDS=KINDS)


@bp.post("/read")
@login_required
def mark_read() -> Response:
    """Marks the items named in the form read (one button per item), then goes back."""
    exchange, viewer = caught_up_exchange(), current_viewer()
    ids = request.form.getlist("item_id")
    if ids:
        exchange.inbox.view.mark_read(viewer, ids, moment_of(exchange, viewer))
    return redirect(safe_next(request.form.get("next")) or url_for("inbox.index"))


@bp.post("/read-all")
@login_required
def mark_all_read() -> Response:
    exchange = caught_up_exchange()
    viewer = current_viewer()
    count = exchange.inbox.view.mark_all_read(viewer, moment_of(exchange, viewer))
    flash(ngettext("%(num)s item marked read.", "%(num)s items marked read.", count)
          if count else _("Nothing was unread."), "success")
    return redirect(url_for("inbox.index"))


def unread_count() -> dict[str, Any]:
    """The navigation's unread count (a context processor), for signed-in users."""
    if not current_user.is_authenticated:
        return {}
    exchange, viewer = get_exchange(), current_viewer()
    return {"inbox_unread": exchange.inbox.view.unread_count(viewer, moment_of(exchange, viewer))}
