"""API operations on the directory: every registered state with its public keys and national
contact point (what a national system needs to address a trace request), and the state admin's
update and confirmation of their own state's contact point."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint

from cases.kernel.viewer import Viewer

from ..extensions import get_exchange
from .exchange_schemas import ContactPointIn, StateOut, StatePage
from .schemas import PageQuery
from .spec import operation

bp = Blueprint("directory", __name__)


def _state(code: str) -> StateOut:
    return StateOut.of(get_exchange().directory.state(code), datetime.now(UTC))


@operation(bp, "GET", "/directory/states", summary="Every registered state, by code, with "
           "its contact point", tag="directory", query=PageQuery, response=StatePage)
def list_states(viewer: Viewer, query: PageQuery) -> StatePage:
    states, now = get_exchange().directory.states(), datetime.now(UTC)
    return StatePage(page=query.page, per_page=query.per_page, total=len(states),
                     items=[StateOut.of(s, now) for s in query.window(states)])


@operation(bp, "GET", "/directory/states/<code>", summary="One state, by ISO 3166-1 "
           "alpha-3 code", tag="directory", response=StateOut, errors=(404,))
def get_state(viewer: Viewer, code: str) -> StateOut:
    return _state(code)


@operation(bp, "PUT", "/directory/contact-point", summary="Set your state's national "
           "contact point (state admin)", tag="directory", body=ContactPointIn,
           response=StateOut, errors=(403,))
def set_contact_point(viewer: Viewer, body: ContactPointIn) -> StateOut:
    get_exchange().directory.set_contact_point(
        viewer, name=body.name, office=body.office, channel=body.channel,
        volunteers_to_assist=body.volunteers_to_assist)
    return _state(viewer.state)


@operation(bp, "POST", "/directory/contact-point/confirmation", summary="Confirm your "
           "state's contact point is still right (state admin)", tag="directory",
           response=StateOut, errors=(403, 404))
def confirm_contact_point(viewer: Viewer) -> StateOut:
    get_exchange().directory.confirm_contact_point(viewer)
    return _state(viewer.state)
