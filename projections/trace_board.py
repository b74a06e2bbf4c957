"""The trace board: each state's incoming and outgoing trace requests, and how pairs respond.

Holds clear facts only (parties, case, status, outcome, days); what was asked and answered
stays sealed in the events. Overdue and days open are computed from the caller's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    func,
    insert,
    or_,
    select,
    update,
)

from cases.tracing.trace_request import (
    PROMPT_ACKNOWLEDGEMENT_DAYS,
    TraceRequest,
    action_for,
    day_of,
    is_overdue,
)

from .read_model import ReadModel

metadata = MetaData()

trace_board = Table(
    "trace_board",
    metadata,
    Column("trace_id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False),
    Column("requester", String(3), nullable=False, index=True),
    Column("requested", String(3), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("items", Integer, nullable=False),
    Column("sent_on", Date, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("acknowledged_on", Date),
    Column("answered_on", Date),
    Column("closed_on", Date),
    Column("updated", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    # The sealed body of the request as sent (its questions and items), opened on the way
    # out with a party's key: the board lists the items without replaying each request.
    Column("request_token", Text, nullable=False),
)


BOARD_SORTS = ("deadline", "sent", "status", "state")  # "state": the other party
# A request's statuses in the order of its lifecycle, as the board sorts them.
STATUS_ORDER = ("sent", "acknowledged", "more_info_requested", "answered", "closed")
DIRECTIONS = ("incoming", "outgoing")


@dataclass(frozen=True)
class BoardRow:
    trace_id: str
    case_id: str
    requester: str
    requested: str
    status: str
    outcome: str
    items: int
    sent_on: date
    deadline: date
    acknowledged_on: date | None
    answered_on: date | None
    closed_on: date | None
    days_open: int
    overdue: bool
    request_token: str = ""
    action: str = ""  # what the request waits for from the board's state (`action_for`)

    @property
    def done(self) -> bool:
        return self.answered_on is not None


@dataclass(frozen=True)
class Board:
    """One state's board: requests it received and requests it sent."""

    incoming: list[BoardRow]
    outgoing: list[BoardRow]


@dataclass(frozen=True)
class PairStats:
    """How one requested state has responded to one requesting state."""

    requester: str
    requested: str
    count: int
    acknowledged_within_7_days: int
    answered_within_deadline: int


class TraceBoardView(ReadModel):
    """The board table; each write commits with its tracking record."""

    metadata = metadata

    def record(self, tracking: Tracking, trace_id: str, *,
               created: dict[str, Any] | None = None,
               changes: dict[str, Any] | None = None) -> None:
        with self.transaction(commit=True) as session:
            if created is not None:
                session.execute(insert(trace_board).values(trace_id=trace_id, **created))
            if changes:
                session.execute(update(trace_board).where(trace_board.c.trace_id == trace_id)
                                .values(**changes))
            self._insert_tracking(session, tracking)

    def board_for(self, state: str, now: date | datetime, sort: str = "deadline") -> Board:
        """A state's incoming and outgoing requests, by deadline (the nearest first, the
        answered after the open ones), or by ``sort="sent"`` (the latest sent first)."""
        return Board(*(self.page_for(state, now, direction, sort, sort == "sent")[0]
                       for direction in DIRECTIONS))

    def page_for(self, state: str, now: date | datetime, direction: str = "",
                 sort: str = "deadline", descending: bool = False, offset: int = 0,
                 limit: int | None = None) -> tuple[list[BoardRow], int]:
        """A page of the requests a state received (``direction="incoming"``), sent
        ("outgoing") or both (""), sorted in SQL by one of `BOARD_SORTS`; and how many.

        By deadline, the answered requests come after the open ones in both directions;
        ties go by deadline (by sent date for a deadline), then id, in the same direction."""
        t = trace_board.c
        where = {"incoming": t.requested == state, "outgoing": t.requester == state,
                 "": or_(t.requester == state, t.requested == state)}[direction]
        other = case((t.requester == state, t.requested), else_=t.requester)
        rank = case({s: i for i, s in enumerate(STATUS_ORDER)}, value=t.status,
                    else_=len(STATUS_ORDER))
        keys = {"deadline": [t.deadline, t.sent_on], "sent": [t.sent_on],
                "status": [rank, t.deadline], "state": [other, t.deadline]}[sort]
        order = [k.desc() if descending else k.asc() for k in (*keys, t.trace_id)]
        if sort == "deadline":
            order.insert(0, t.answered_on.is_not(None))
        today = day_of(now)
        with self.transaction(commit=False) as session:
            total = session.execute(select(func.count()).select_from(trace_board)
                                    .where(where)).scalar() or 0
            rows = session.execute(select(trace_board).where(where).order_by(*order)
                                   .offset(offset).limit(limit)).all()
        return [_row(r, today, state) for r in rows], int(total)

    def for_case(self, case_id: str, state: str, now: date | datetime) -> list[BoardRow]:
        """The requests about a case that the state sent or received, by deadline."""
        return self._rows(state, now, and_(trace_board.c.case_id == case_id, or_(
            trace_board.c.requester == state, trace_board.c.requested == state)))

    def _rows(self, state: str, now: date | datetime, where: Any) -> list[BoardRow]:
        today = day_of(now)
        with self.transaction(commit=False) as session:
            rows = [_row(r, today, state)
                    for r in session.execute(select(trace_board).where(where)).all()]
        rows.sort(key=lambda r: (r.done, r.deadline, r.sent_on, r.trace_id))
        return rows

    def pair_stats(self) -> list[PairStats]:
        """Per (requester, requested) pair: requests, prompt acknowledgements, timely answers."""
        with self.transaction(commit=False) as session:
            rows = session.execute(select(trace_board)).all()
        pairs: dict[tuple[str, str], list[int]] = {}
        for r in rows:
            counts = pairs.setdefault((r.requester, r.requested), [0, 0, 0])
            counts[0] += 1
            if (r.acknowledged_on is not None
                    and (r.acknowledged_on - r.sent_on).days <= PROMPT_ACKNOWLEDGEMENT_DAYS):
                counts[1] += 1
            if r.answered_on is not None and r.answered_on <= r.deadline:
                counts[2] += 1
        return [PairStats(requester, requested, *counts)
                for (requester, requested), counts in sorted(pairs.items())]



def _row(r: Any, today: date, state: str = "") -> BoardRow:
    m = dict(r._mapping)
    m.pop("updated")
    m.pop("version")
    end = m["answered_on"] or today
    return BoardRow(**m, days_open=max((end - m["sent_on"]).days, 0),
                    overdue=is_overdue(m["status"], m["deadline"], today),
                    action=action_for(state, m["requester"], m["requested"], m["status"]))


class TraceBoard(Projection[TraceBoardView]):
    """Projects trace request events into the board."""

    name = "trace_board"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # not a trace event: only move the position

    @process_event.register
    def _(self, event: TraceRequest.Sent, tracking: Tracking) -> None:
        self.view.record(tracking, str(event.originator_id), created=dict(
            case_id=event.case_id, requester=event.requester, requested=event.requested,
            status="sent", outcome="", items=len(event.item_ids),
            sent_on=date.fromisoformat(event.on), deadline=date.fromisoformat(event.deadline),
            updated=event.timestamp, version=event.originator_version,
            request_token=event.body))

    @process_event.register
    def _(self, event: TraceRequest.Acknowledged, tracking: Tracking) -> None:
        self._touch(event, tracking, status="acknowledged", acknowledged_on=func.coalesce(
            trace_board.c.acknowledged_on, date.fromisoformat(event.on)))

    @process_event.register
    def _(self, event: TraceRequest.MoreInfoRequested, tracking: Tracking) -> None:
        self._touch(event, tracking, status="more_info_requested")

    @process_event.register
    def _(self, event: TraceRequest.InformationSupplied, tracking: Tracking) -> None:
        self._touch(event, tracking, status="sent")

    @process_event.register
    def _(self, event: TraceRequest.Answered, tracking: Tracking) -> None:
        on = date.fromisoformat(event.on)
        # An answer without an acknowledgement acknowledges on the same day
        # (cases.tracing.trace_request).
        self._touch(event, tracking, status="answered", outcome=event.outcome, answered_on=on,
                    acknowledged_on=func.coalesce(trace_board.c.acknowledged_on, on))

    @process_event.register
    def _(self, event: TraceRequest.Closed, tracking: Tracking) -> None:
        self._touch(event, tracking, status="closed", closed_on=date.fromisoformat(event.on))

    @process_event.register
    def _(self, event: TraceRequest.DeadlineChanged, tracking: Tracking) -> None:
        self._touch(event, tracking, deadline=date.fromisoformat(event.deadline))

    @process_event.register
    def _(self, event: TraceRequest.AnswerAttached, tracking: Tracking) -> None:
        self._touch(event, tracking)

    def _touch(self, event: Any, tracking: Tracking, **changes: Any) -> None:
        self.view.record(tracking, str(event.originator_id),
                         changes=dict(changes, updated=event.timestamp,
                                      version=event.originator_version))
