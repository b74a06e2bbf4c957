"""The inbox's tables and how they are read: a user's items (stored ones, and the ones computed
from deadlines and checkpoints when read), the unread count, read markers, and what the pages
naming a case need (its sealed title, whether a state reads it). See `projections.inbox`.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.persistence import Tracking
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
)

from cases.audit.log import Checkpoint
from cases.identity.directory import SECRETARIAT_CODE
from cases.kernel.errors import NotFound
from cases.kernel.viewer import Viewer
from cases.notifications.kinds import DUE_SOON_DAYS, KINDS, kinds_seen_by
from cases.tracing.trace_request import AWAITING_REPLY

from . import outbox
from .read_model import ReadModel, insert_rows, update_rows

NAMESPACE = uuid5(NAMESPACE_URL, "urn:divex:inbox")

_PENDING_ROWS = "divex.inbox_rows"  # the new rows a batch holds back, per table
_PENDING_TITLES = "divex.inbox_titles"  # case id -> its new sealed title, held back too
_PENDING_TOLD = "divex.inbox_told"  # state code or user id -> the batch's sum for them
metadata = MetaData()

UNREAD_COUNTED = 100  # the unread count stops there: the navigation shows "99+"
COUNTS_KEPT = 10_000  # users whose unread count a process keeps (`InboxView.unread_count`)

inbox_items = Table(
    "inbox_items",
    metadata,
    Column("item_id", String(36), primary_key=True),
    Column("state", String(3), nullable=False),  # "" for an item about one user
    Column("user_id", String(36), nullable=False),  # "" for a state's item
    Column("kind", String(32), nullable=False),
    Column("case_id", String(36), nullable=False),
    Column("case_gated", Boolean, nullable=False),  # shown only while the state reads it
    Column("trace_id", String(36), nullable=False),
    Column("meeting_id", String(36), nullable=False),
    Column("ref", String(36), nullable=False),  # a lesson id, a state's code
    Column("actor_state", String(3), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("settled", Boolean, nullable=False),  # what it asked for was done
    Index("inbox_items_by_state", "state", "at"),
    # The unread count looks for a state's newest items about no case and about a case apart.
    Index("inbox_items_by_gate", "state", "case_gated", "at"),
    Index("inbox_items_by_user", "user_id", "at"),
)

inbox_cases = Table(
    "inbox_cases",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("owner", String(3), nullable=False),
    Column("title_token", Text, nullable=False),
    Column("title_key_version", Integer, nullable=False),
    Column("policy_concerned", Text, nullable=False),
    Column("policy_consents", Text, nullable=False),
)

inbox_case_readers = Table(
    "inbox_case_readers",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("state", String(3), primary_key=True),
)

inbox_traces = Table(
    "inbox_traces",
    metadata,
    Column("trace_id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False),
    Column("requester", String(3), nullable=False, index=True),
    Column("requested", String(3), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("deadline", Date, nullable=False),
    # When the request was sent or its deadline last changed: its reminder is never dated
    # before (a request sent two days before its deadline is due soon from the day it is sent).
    Column("deadline_set", DateTime(timezone=True), nullable=False),
)

# Per state or user, the sum of the notification ids of the events that changed what they are
# told: it grows with each, in whatever order the events are applied (Kafka workers apply them
# per aggregate, not in log order), and a rebuild gives it again. A process keeps a user's
# unread count until their state's or their own sum moves.
inbox_changes = Table(
    "inbox_changes",
    metadata,
    Column("recipient", String(36), primary_key=True),  # a state's code or a user's id
    Column("changes", BigInteger, nullable=False),
)

inbox_meetings = Table(
    "inbox_meetings",
    metadata,
    Column("meeting_id", String(36), primary_key=True),
    Column("participants", Text, nullable=False),
)

# Per-user read markers: not rebuilt from the log, so a rebuild keeps them.
markers = MetaData()
inbox_read = Table(
    "inbox_read",
    markers,
    Column("user_id", String(36), primary_key=True),
    Column("item_id", String(36), primary_key=True),
    Column("read_at", DateTime(timezone=True), nullable=False),
)
# A new mark each time a user marks items read, so every process counts their unread again.
inbox_marked = Table(
    "inbox_marked",
    markers,
    Column("user_id", String(36), primary_key=True),
    Column("mark", String(36), nullable=False),
)


@dataclass(frozen=True)
class Moment:
    """When an inbox is read: the clock, the deployment's time zone (deadline days are its
    days) and the newest checkpoint (auditors are asked to cosign it)."""

    now: datetime
    zone: tzinfo
    latest_checkpoint: Checkpoint | None = None

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()


@dataclass(frozen=True)
class SealedCaseTitle:
    case_id: str
    title_token: str
    title_key_version: int


@dataclass(frozen=True)
class InboxItem:
    """One item as a user sees it; the title token is opened by the caller."""

    item_id: str
    kind: str
    at: datetime
    case_id: str
    trace_id: str
    meeting_id: str
    ref: str
    actor_state: str
    settled: bool
    read: bool
    title_token: str = ""
    title_key_version: int = 0
    due: date | None = None  # the deadline, for computed trace items

    @property
    def unread(self) -> bool:
        return not self.read and not self.settled


def item_id(*parts: object) -> str:
    return str(uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class InboxView(ReadModel):
    """The inbox tables; each write commits with its tracking record and its mail rows."""

    metadata = metadata

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._counts: OrderedDict[str, tuple[tuple[Any, ...], int]] = OrderedDict()
        self._counts_lock = threading.Lock()

    def create_table(self) -> None:
        super().create_table()
        markers.create_all(self.datastore.engine)
        outbox.metadata.create_all(self.datastore.engine)

    def record(self, tracking: Tracking, items: Sequence[dict[str, Any]] = (),
               statements: Iterable[Any] = (),
               rows: Mapping[Table, list[dict[str, Any]]] | None = None,
               title: tuple[str, str, int] | None = None, told: Iterable[str] = ()) -> None:
        """Runs the event's statements (after what the batch holds back); its ``items``, new
        ``rows`` and new ``title`` (case id, sealed title, key version) are held back and
        written at the end of the batch (`write_pending`), or before the next statement or
        read. An insert and a mail queue look-up per event were a fifth of a rebuild, and
        a statement per revised title, which wrote what was held back, another fifth.

        The items' recipients, the states added as readers and ``told`` (whose items the
        statements settle or hide, or whose trace deadlines they change) have their row of
        `inbox_changes` moved by this event."""
        with self.transaction(commit=True) as session:
            statements = list(statements)
            if statements:
                self.write_pending(session)
            for statement in statements:
                session.execute(statement)
            held = session.info.setdefault(_PENDING_ROWS, {})
            for table, new in ({inbox_items: items, **(rows or {})}).items():
                if new:
                    held.setdefault(table, []).extend(new)
            if title:
                session.info.setdefault(_PENDING_TITLES, {})[title[0]] = title[1:]
            recipients = {*told, *(item["state"] or item["user_id"] for item in items),
                          *(row["state"] for row in (rows or {}).get(inbox_case_readers, []))}
            sums = session.info.setdefault(_PENDING_TOLD, {})
            for recipient in recipients:
                sums[recipient] = sums.get(recipient, 0) + tracking.notification_id
            self._insert_tracking(session, tracking)

    def write_pending(self, session: Any) -> None:
        for table, held in session.info.pop(_PENDING_ROWS, {}).items():
            insert_rows(session, table, held)
            if table is inbox_items:
                outbox.queue(session, held)
        titles = session.info.pop(_PENDING_TITLES, {})
        update_rows(session, inbox_cases, {"case_id": "key"},
                    {"title_token": "token", "title_key_version": "version"},
                    [dict(key=case_id, token=token, version=version)
                     for case_id, (token, version) in titles.items()])
        told = session.info.pop(_PENDING_TOLD, {})
        if told:
            c = inbox_changes.c
            before = dict(session.execute(select(c.recipient, c.changes).where(
                c.recipient.in_(told))).all())
            session.execute(delete(inbox_changes).where(c.recipient.in_(told)))
            insert_rows(session, inbox_changes, [
                dict(recipient=recipient, changes=before.get(recipient, 0) + added)
                for recipient, added in told.items()])

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A session to read the inbox tables in while a batch is applied: the rows it
        holds back are written first."""
        with self.transaction(commit=True) as session:
            self.write_pending(session)
            yield session

    def scalar(self, query: Any) -> Any:
        with self.reading() as session:
            return session.execute(query).scalar()

    # Reading

    def items_for(self, viewer: Viewer, moment: Moment, *, kind: str = "", offset: int = 0,
                  limit: int = 20) -> tuple[list[InboxItem], int]:
        """A page of the viewer's items, the computed ones (deadlines, checkpoints) first,
        then the stored ones, latest first; and the total."""
        computed = [i for i in self._computed(viewer, moment) if kind in ("", i.kind)]
        shown = computed[offset:offset + limit]
        with self.transaction(commit=False) as session:
            chosen = self._visible(viewer, kind)
            total = session.execute(select(func.count()).select_from(inbox_items)
                                    .where(chosen)).scalar() or 0
            rows = session.execute(
                self._listed(viewer).where(chosen)
                .order_by(inbox_items.c.at.desc(), inbox_items.c.item_id)
                .offset(max(offset - len(computed), 0))
                .limit(limit - len(shown))).all() if limit > len(shown) else []
        return shown + [_item(r) for r in rows], len(computed) + int(total)

    def unread_count(self, viewer: Viewer, moment: Moment) -> int:
        """How many of the viewer's items are unread, counted up to `UNREAD_COUNTED` (the
        navigation says "99+" past it): every page shows it, and counting all of a state's
        40,000 unread items took ~110 ms a page at 100,000 cases.

        The process keeps the count until the state's or the user's row of `inbox_changes`
        moves, the user marks items read, their roles or the day change (one look-up by
        primary key: the count itself was ~5 ms of every page at 100,000 cases). Auditors,
        asked to cosign the newest checkpoint, are counted every time."""
        key = None if moment.latest_checkpoint is not None else self._count_key(viewer, moment)
        if key is not None:
            with self._counts_lock:
                kept = self._counts.get(viewer.user_id)
            if kept is not None and kept[0] == key:
                return kept[1]
        count = self._count(viewer, moment)
        if key is not None:
            with self._counts_lock:
                self._counts[viewer.user_id] = (key, count)
                self._counts.move_to_end(viewer.user_id)
                while len(self._counts) > COUNTS_KEPT:
                    self._counts.popitem(last=False)
        return count

    def _count_key(self, viewer: Viewer, moment: Moment) -> tuple[Any, ...]:
        """What the viewer's count depends on, read before it is counted (a change landing
        in between only makes the next page count again)."""
        c, m = inbox_changes.c, inbox_marked.c
        of_state, of_user = (select(c.changes).where(c.recipient == recipient).scalar_subquery()
                             for recipient in (viewer.state, viewer.user_id))
        mark = select(m.mark).where(m.user_id == viewer.user_id).scalar_subquery()
        with self.transaction(commit=False) as session:
            found = session.execute(select(of_state, of_user, mark)).one()
        return (*found, viewer.state, viewer.roles, moment.today)

    def _count(self, viewer: Viewer, moment: Moment) -> int:
        computed = self._computed(viewer, moment)
        i, r = inbox_items.c, inbox_read.c
        read = exists().where(r.user_id == viewer.user_id, r.item_id == i.item_id)
        # A count per part of `_visible`, each the newest first along an index: under one
        # OR, PostgreSQL read every reader row of the state to test the gated items (~110
        # ms a page at 100,000 cases).
        counts = [select(func.count()).select_from(
            select(i.item_id).where(part, i.settled.is_(False), ~read)
            .order_by(i.at.desc()).limit(UNREAD_COUNTED).subquery()).scalar_subquery()
            for part in self._visible_parts(viewer, "")]
        with self.transaction(commit=False) as session:
            stored = session.execute(select(sum(counts[1:], counts[0]))).scalar()
        return min(sum(item.unread for item in computed) + int(stored or 0), UNREAD_COUNTED)

    def mark_read(self, viewer: Viewer, ids: Sequence[str], moment: Moment) -> int:
        """Marks the viewer's items read; an id that is not one of their items is `NotFound`
        and nothing is marked. Returns how many the unread count counted (not settled)."""
        wanted = set(ids)
        computed = {i.item_id: i for i in self._computed(viewer, moment)}
        with self.transaction(commit=False) as session:
            stored = {r.item_id: _item(r) for r in session.execute(
                self._listed(viewer).where(self._visible(viewer, ""),
                                           inbox_items.c.item_id.in_(wanted - set(computed))))}
        unknown = wanted - set(computed) - set(stored)
        if unknown:
            raise NotFound("No such item in your inbox: %(item)s.", field="item_ids",
                           item=sorted(unknown)[0])
        fresh = [stored.get(i) or computed[i] for i in wanted]
        self._write_markers(viewer, [i.item_id for i in fresh if not i.read], moment.now)
        return sum(i.unread for i in fresh)

    def mark_all_read(self, viewer: Viewer, moment: Moment) -> int:
        """Marks every item of the viewer read; returns how many the unread count counted
        (settled items, shown as done, are marked too but were not counted)."""
        computed = [i for i in self._computed(viewer, moment) if not i.read]
        i, r = inbox_items.c, inbox_read.c
        read = exists().where(r.user_id == viewer.user_id, r.item_id == i.item_id)
        with self.transaction(commit=False) as session:
            stored = session.execute(select(i.item_id, i.settled).where(
                self._visible(viewer, ""), ~read)).all()
        self._write_markers(viewer, [c.item_id for c in computed] +
                            [row.item_id for row in stored], moment.now)
        return sum(c.unread for c in computed) + sum(not row.settled for row in stored)

    def _write_markers(self, viewer: Viewer, ids: Sequence[str], now: datetime) -> None:
        if not ids:
            return
        with self.transaction(commit=True) as session:
            known = set(session.execute(select(inbox_read.c.item_id).where(
                inbox_read.c.user_id == viewer.user_id,
                inbox_read.c.item_id.in_(list(ids)))).scalars())
            rows = [{"user_id": viewer.user_id, "item_id": i, "read_at": now}
                    for i in sorted(set(ids) - known)]
            if rows:
                session.execute(insert(inbox_read), rows)
                session.execute(delete(inbox_marked).where(
                    inbox_marked.c.user_id == viewer.user_id))
                session.execute(insert(inbox_marked).values(
                    user_id=viewer.user_id, mark=str(uuid.uuid4())))

    def readable_titles(self, state: str, case_ids: Iterable[str]) -> list[SealedCaseTitle]:
        """The sealed latest titles of those of the cases the state reads now, for the pages
        that name a case (a trace request's, the board's) to open with the viewer's keys."""
        c, r = inbox_cases.c, inbox_case_readers.c
        with self.transaction(commit=False) as session:
            return [SealedCaseTitle(*row) for row in session.execute(
                select(c.case_id, c.title_token, c.title_key_version)
                .join(inbox_case_readers, r.case_id == c.case_id)
                .where(r.state == state, c.case_id.in_(set(case_ids))))]

    def case_readable(self, case_id: str, state: str) -> bool | None:
        """Whether the state reads the case now; None when the inbox has not seen the case."""
        with self.transaction(commit=False) as session:
            if session.execute(select(inbox_cases.c.case_id).where(
                    inbox_cases.c.case_id == case_id)).first() is None:
                return None
            return session.execute(select(inbox_case_readers.c.state).where(
                inbox_case_readers.c.case_id == case_id,
                inbox_case_readers.c.state == state)).first() is not None

    def traces_due(self, moment: Moment) -> list[dict[str, Any]]:
        """Every computed trace item of every state at the moment, as mail rows."""
        today = moment.today
        with self.transaction(commit=False) as session:
            rows = session.execute(select(inbox_traces).where(
                inbox_traces.c.status.in_(AWAITING_REPLY),
                inbox_traces.c.deadline <= today + timedelta(days=DUE_SOON_DAYS))).all()
        return [dict(item_id=item.item_id, state=state, user_id="", kind=item.kind,
                     case_id=item.case_id, case_gated=False, at=item.at)
                for row in rows for state in (row.requester, row.requested)
                for item in [_trace_item(row, state, today, moment.zone)]]

    def _computed(self, viewer: Viewer, moment: Moment) -> list[InboxItem]:
        roles, found, latest = viewer.roles, [], moment.latest_checkpoint
        if KINDS["trace_due_soon"].audience & roles:
            today = moment.today
            t = inbox_traces.c
            with self.transaction(commit=False) as session:
                rows = session.execute(select(inbox_traces).where(
                    or_(t.requester == viewer.state, t.requested == viewer.state),
                    t.status.in_(AWAITING_REPLY),
                    t.deadline <= today + timedelta(days=DUE_SOON_DAYS))
                    .order_by(t.deadline, t.trace_id)).all()
            found = [_trace_item(r, viewer.state, today, moment.zone) for r in rows]
        if (latest is not None and KINDS["checkpoint_to_cosign"].audience & roles
                and viewer.state != SECRETARIAT_CODE
                and latest.origin is not None  # the first format is no longer cosigned
                and not latest.cosigned_by(viewer.state)):
            found.append(InboxItem(
                item_id=item_id("checkpoint_to_cosign", latest.size, viewer.state),
                kind="checkpoint_to_cosign", at=datetime.fromisoformat(latest.time),
                case_id="", trace_id="", meeting_id="", ref=str(latest.size),
                actor_state=SECRETARIAT_CODE, settled=False, read=False))
        if not found:
            return []
        with self.transaction(commit=False) as session:
            read = set(session.execute(select(inbox_read.c.item_id).where(
                inbox_read.c.user_id == viewer.user_id,
                inbox_read.c.item_id.in_([i.item_id for i in found]))).scalars())
            tokens = {r.case_id: r for r in session.execute(select(inbox_cases).where(
                inbox_cases.c.case_id.in_([i.case_id for i in found])))}
            readable = set(session.execute(select(inbox_case_readers.c.case_id).where(
                inbox_case_readers.c.state == viewer.state,
                inbox_case_readers.c.case_id.in_(list(tokens)))).scalars())
        return [_with(i, read=i.item_id in read, case=tokens.get(i.case_id)
                      if i.case_id in readable else None) for i in found]

    @staticmethod
    def _visible(viewer: Viewer, kind: str) -> Any:
        """The stored items the viewer sees: their state's items of kinds their roles see,
        about a case only while the state reads it, and their own items."""
        return or_(*InboxView._visible_parts(viewer, kind))

    @staticmethod
    def _visible_parts(viewer: Viewer, kind: str) -> list[Any]:
        """`_visible` as three conditions that exclude each other: the state's items about
        no case or any case, its items about a case it reads now, the viewer's own."""
        i = inbox_items.c
        kinds = [k for k in kinds_seen_by(viewer.roles) if kind in ("", k)]
        reads_case = exists().where(inbox_case_readers.c.case_id == i.case_id,
                                    inbox_case_readers.c.state == viewer.state)
        own = and_(i.user_id == viewer.user_id, i.state == "")
        if kind:
            own = and_(own, i.kind == kind)
        # No `user_id == ""`: a state's items never name a user (`projections.inbox._new`),
        # and with it PostgreSQL walked every state's items along `inbox_items_by_user`.
        of_state = and_(i.state == viewer.state, i.kind.in_(kinds))
        return [and_(of_state, i.case_gated.is_(False)),
                and_(of_state, i.case_gated.is_(True), reads_case), own]

    @staticmethod
    def _listed(viewer: Viewer) -> Any:
        """Stored items with their read marker and, where the state reads the case now, the
        sealed title."""
        i, c, r = inbox_items.c, inbox_cases.c, inbox_read.c
        reads_case = exists().where(inbox_case_readers.c.case_id == i.case_id,
                                    inbox_case_readers.c.state == viewer.state)
        read = exists().where(r.user_id == viewer.user_id, r.item_id == i.item_id)
        return (select(inbox_items, read.label("read"), c.title_token, c.title_key_version,
                       reads_case.label("reads_case"))
                .select_from(inbox_items.outerjoin(inbox_cases, c.case_id == i.case_id)))


def _trace_item(row: Any, state: str, today: date, zone: tzinfo) -> InboxItem:
    overdue = today > row.deadline
    kind = "trace_overdue" if overdue else "trace_due_soon"
    since = row.deadline + timedelta(days=1) if overdue else \
        row.deadline - timedelta(days=DUE_SOON_DAYS)
    at = max(datetime.combine(since, time(), zone), _aware(row.deadline_set))
    return InboxItem(item_id=item_id(kind, row.trace_id, row.deadline.isoformat(), state),
                     kind=kind, at=at, case_id=row.case_id,
                     trace_id=row.trace_id, meeting_id="",
                     ref=row.requested if state == row.requester else row.requester,
                     actor_state="", settled=False, read=False, due=row.deadline)


def _with(item: InboxItem, *, read: bool, case: Any) -> InboxItem:
    return InboxItem(**{**item.__dict__, "read": read,
                        "title_token": case.title_token if case else "",
                        "title_key_version": case.title_key_version if case else 0})


def _item(row: Any) -> InboxItem:
    m = row._mapping
    opened = m["reads_case"] and m["title_token"]
    return InboxItem(item_id=m["item_id"], kind=m["kind"], at=_aware(m["at"]),
                     case_id=m["case_id"], trace_id=m["trace_id"], meeting_id=m["meeting_id"],
                     ref=m["ref"], actor_state=m["actor_state"], settled=bool(m["settled"]),
                     read=bool(m["read"]), title_token=m["title_token"] if opened else "",
                     title_key_version=m["title_key_version"] if opened else 0)
