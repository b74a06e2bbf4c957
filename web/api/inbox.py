"""API operations on the caller's inbox: list it (by kind), mark items read, mark all read.
The same read model and rules as the page: a state's items of the kinds its roles see, an
item about a case only while the state reads it, its title opened with the caller's keys."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from cases.kernel.viewer import Viewer
from cases.notifications.kinds import KINDS

from ..extensions import caught_up_exchange
from ..inbox import chosen_kind, moment_of
from .schemas import PageQuery, Strict, Timestamp
from .spec import operation

bp = Blueprint("inbox", __name__)


class InboxQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field("", json_schema_extra={"enum": ["", *KINDS]},
                      description="Only items of this kind (empty: all)")


class InboxItemOut(BaseModel):
    id: str
    kind: str
    text: str = Field(description="What happened, in English; no case content")
    at: Timestamp
    case_id: str = Field(description="The case it is about, or empty")
    title: str | None = Field(description="The case's title, where your state reads it now")
    trace_id: str
    meeting_id: str
    state: str = Field(description="The other state concerned (who acted, or the other party "
                       "of a trace request), if any")
    action: str = Field(description="What the item asks of your state, until done")
    settled: bool = Field(description="What it asked for was done by someone of your state")
    read: bool
    due: date | None = Field(description="The deadline of a trace request due or overdue")


class InboxPage(BaseModel):
    items: list[InboxItemOut]
    page: int
    per_page: int
    total: int
    unread: int = Field(description="How many of the user's items are unread, counted up to "
                        "100 (100 means 100 or more)")


class MarkReadIn(Strict):
    item_ids: list[Annotated[UUID, Field(strict=False)]] = Field(
        min_length=1, max_length=100, description="Ids of items of your inbox")


class MarkedOut(BaseModel):
    marked: int = Field(description="How many of them were unread")
    unread: int = Field(description="How many of the user's items are unread, counted up to "
                        "100 (100 means 100 or more)")


@operation(bp, "GET", "/inbox", summary="Your inbox: what concerns your state or you, "
           "computed items (deadlines, checkpoints) first, then newest first", tag="inbox",
           query=InboxQuery, response=InboxPage)
def list_inbox(viewer: Viewer, query: InboxQuery) -> InboxPage:
    exchange = caught_up_exchange()
    moment = moment_of(exchange, viewer)
    items, total = exchange.inbox.view.items_for(
        viewer, moment, kind=chosen_kind(viewer, query.kind),
        offset=(query.page - 1) * query.per_page, limit=query.per_page)
    titles = exchange.cases.titles(viewer, [i for i in items if i.title_token])
    return InboxPage(items=[InboxItemOut(
        id=i.item_id, kind=i.kind, text=KINDS[i.kind].sentence, at=i.at, case_id=i.case_id,
        title=titles.get(i.case_id), trace_id=i.trace_id, meeting_id=i.meeting_id,
        state=i.ref if i.trace_id else i.actor_state,
        action="" if i.settled else KINDS[i.kind].action, settled=i.settled, read=i.read,
        due=i.due) for i in items], page=query.page, per_page=query.per_page, total=total,
        unread=exchange.inbox.view.unread_count(viewer, moment))


@operation(bp, "POST", "/inbox/read", summary="Mark items of your inbox read; an id that is "
           "not one of your items is 404 and nothing is marked", tag="inbox", body=MarkReadIn,
           response=MarkedOut, errors=(404,))
def mark_read(viewer: Viewer, body: MarkReadIn) -> MarkedOut:
    exchange = caught_up_exchange()
    moment = moment_of(exchange, viewer)
    marked = exchange.inbox.view.mark_read(viewer, [str(i) for i in body.item_ids], moment)
    return MarkedOut(marked=marked, unread=exchange.inbox.view.unread_count(viewer, moment))


@operation(bp, "POST", "/inbox/read-all", summary="Mark every item of your inbox read",
           tag="inbox", response=MarkedOut)
def mark_all_read(viewer: Viewer) -> MarkedOut:
    exchange = caught_up_exchange()
    moment = moment_of(exchange, viewer)
    marked = exchange.inbox.view.mark_all_read(viewer, moment)
    return MarkedOut(marked=marked, unread=exchange.inbox.view.unread_count(viewer, moment))
