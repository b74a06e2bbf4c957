"""The audit index: one row per stored event, clear header facts only.

It feeds the auditors' log browser and time travel (which version was current at a moment),
and holds each event's hash in notification order: the leaves of the checkpoints' Merkle tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select

from cases.kernel.ledger import SignedAggregate

from .read_model import ReadModel, insert_rows

metadata = MetaData()
_PENDING_ROWS = "audit_index_rows"  # session.info key: the rows of the batch being applied

audit_log = Table(
    "audit_log",
    metadata,
    Column("notification_id", Integer, primary_key=True, autoincrement=False),
    # Leaf index in the Merkle tree: notification ids may have gaps, positions may not.
    Column("position", Integer, nullable=False, unique=True),
    Column("aggregate_id", String(36), nullable=False, index=True),
    Column("aggregate_kind", String(32), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("event_type", String(64), nullable=False, index=True),
    Column("timestamp", DateTime(timezone=True), nullable=False, index=True),
    Column("actor_state", String(3), nullable=False, index=True),
    Column("actor_user", String(36), nullable=False),
    Column("event_hash", String(64), nullable=False),
)


@dataclass(frozen=True)
class AuditRow:
    notification_id: int
    position: int
    aggregate_id: str
    aggregate_kind: str
    version: int
    event_type: str
    timestamp: datetime
    actor_state: str
    actor_user: str
    event_hash: str


@dataclass(frozen=True)
class AuditFilter:
    aggregate_id: str = ""
    aggregate_kind: str = ""
    actor_state: str = ""
    actor_user: str = ""
    event_type: str = ""
    since: datetime | None = None
    until: datetime | None = None


class AuditIndexView(ReadModel):
    """The audit_log table; each row commits with its tracking record."""

    metadata = metadata

    def record(self, tracking: Tracking, **row: Any) -> None:
        """Notes the event's row (with the event, to hash); `write_pending` writes the
        batch's rows at once."""
        with self.transaction(commit=True) as session:
            session.info.setdefault(_PENDING_ROWS, []).append(
                dict(row, notification_id=tracking.notification_id))
            self._insert_tracking(session, tracking)

    def write_pending(self, session: Any) -> None:
        """Writes the batch's rows in one statement. Rows arrive in notification order, so
        their leaf indexes run on from one past the last (read once per batch through the
        unique index on position, not by counting the table).

        An event followed in the batch by the next event of its aggregate takes its hash
        from that event's ``prev_hash``, which the next actor signed; the others are
        hashed. Hashing each event (its canonical header JSON, ~30 µs) was a seventh of a
        rebuild, where most events are followed in their batch. `divex audit verify`
        hashes every stored event itself and checks it against the next one's
        ``prev_hash``, so a stored event changed since is still found."""
        rows = session.info.pop(_PENDING_ROWS, [])
        if rows:
            following = {(row["aggregate_id"], row["version"] - 1): row["event"].prev_hash
                         for row in rows}
            for row in rows:
                event = row.pop("event")
                row["event_hash"] = following.get((row["aggregate_id"], row["version"])) \
                    or event.hash()
            last = session.execute(select(func.max(audit_log.c.position))).scalar()
            start = 0 if last is None else last + 1
            insert_rows(session, audit_log, [dict(row, position=start + i)
                                             for i, row in enumerate(rows)])

    def count(self) -> int:
        """How many events the index holds: one past the last leaf position (positions run
        from 0 without gaps), read through the unique index on position. Counting the rows
        read them all, and `Exchange.follow` asks on every case list page."""
        with self.transaction(commit=False) as session:
            last = session.execute(select(func.max(audit_log.c.position))).scalar()
        return 0 if last is None else int(last) + 1

    def leaf_hashes(self, size: int | None = None, start: int = 0) -> list[bytes]:
        """The event hashes (the Merkle leaves' data) at positions ``start`` to ``size``."""
        query = select(audit_log.c.event_hash).order_by(audit_log.c.position)
        if start:
            query = query.where(audit_log.c.position >= start)
        if size is not None:
            query = query.where(audit_log.c.position < size)
        with self.transaction(commit=False) as session:
            return [bytes.fromhex(h) for h in session.execute(query).scalars()]

    def browse(self, where: AuditFilter, offset: int = 0,
               limit: int = 50) -> tuple[list[AuditRow], int]:
        """A page of events matching the filter, newest first, and how many match."""
        query = select(audit_log)
        for column in ("aggregate_id", "aggregate_kind", "actor_state", "actor_user",
                       "event_type"):
            if getattr(where, column):
                query = query.where(audit_log.c[column] == getattr(where, column))
        if where.since:
            query = query.where(audit_log.c.timestamp >= where.since)
        if where.until:
            query = query.where(audit_log.c.timestamp <= where.until)
        with self.transaction(commit=False) as session:
            total = session.execute(select(func.count()).select_from(query.subquery())).scalar()
            rows = session.execute(query.order_by(audit_log.c.position.desc())
                                   .offset(offset).limit(limit)).all()
        return [AuditRow(**r._mapping) for r in rows], int(total or 0)

    def row(self, notification_id: int) -> AuditRow | None:
        with self.transaction(commit=False) as session:
            found = session.execute(select(audit_log).where(
                audit_log.c.notification_id == notification_id)).first()
        return AuditRow(**found._mapping) if found else None

    def events_of(self, aggregate_id: str) -> list[AuditRow]:
        with self.transaction(commit=False) as session:
            rows = session.execute(select(audit_log).where(
                audit_log.c.aggregate_id == aggregate_id).order_by(audit_log.c.version)).all()
        return [AuditRow(**r._mapping) for r in rows]

    def version_at(self, aggregate_id: str, moment: datetime) -> int | None:
        """The aggregate's version at ``moment``; None if it did not exist yet."""
        with self.transaction(commit=False) as session:
            return session.execute(select(func.max(audit_log.c.version)).where(
                audit_log.c.aggregate_id == aggregate_id,
                audit_log.c.timestamp <= moment)).scalar()


class AuditIndex(Projection[AuditIndexView]):
    """Projects every signed event of the log into the audit index."""

    name = "audit_index"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # not a signed event: only move the position

    # One handler for every aggregate's events: singledispatch falls back on the base class.
    @process_event.register
    def _(self, event: SignedAggregate.Event, tracking: Tracking) -> None:
        qualname = type(event).__qualname__  # e.g. "Case.Shared"
        self.view.record(
            tracking, aggregate_id=str(event.originator_id),
            aggregate_kind=qualname.split(".")[0], version=event.originator_version,
            event_type=qualname, timestamp=event.timestamp, actor_state=event.actor_state,
            actor_user=event.actor_user, event=event)
