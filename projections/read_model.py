"""What every read model shares: its tables beside its tracking tables, dropped and dumped
together (for `divex projections rebuild` and the tests that compare a rebuild).

Two tracking tables keep each event applied once. The position table holds, per aggregate,
the last version applied: an event commits only if it is the next version of its aggregate, so
duplicates are absorbed and no event overtakes an earlier one of the same record, whatever the
source (the log in order, or Kafka partitions, where only per-aggregate order holds).
eventsourcing's tracking table holds the follower's high-water mark in the log.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    Table,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy_utils.types.uuid import UUIDType


@dataclass(frozen=True)
class EventTracking(Tracking):
    """Where an event sits in the log and in its aggregate.

    ``in_log_order`` is False for a source that only keeps per-aggregate order (Kafka): the
    high-water mark is then left alone, as it would mean nothing.
    """

    aggregate_id: UUID
    version: int
    in_log_order: bool = True


class NotNextVersion(IntegrityError):
    """The event is a duplicate, or an earlier version of its aggregate is not applied yet."""


class ReadModel(SQLAlchemyTrackingRecorder):
    """A projection's view: subclasses name their tables' ``metadata``; each write commits
    with its tracking records."""

    metadata: ClassVar[MetaData]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.positions = Table(
            f"{self.tracking_table_name}_positions", MetaData(),
            Column("aggregate_id", UUIDType(), primary_key=True),
            Column("version", Integer, nullable=False),
            Column("notification_id", BigInteger, nullable=False))

    def create_table(self) -> None:
        """Creates the tables; tables of an older shape are dropped first, with the tracking,
        so the read model is rebuilt from zero as it catches up."""
        if self._outdated():
            self.drop()
        super().create_table()
        self.metadata.create_all(self.datastore.engine)
        self.positions.create(self.datastore.engine, checkfirst=True)

    def _outdated(self) -> bool:
        found = inspect(self.datastore.engine)
        if found.has_table(self.tracking_table_name) and not found.has_table(self.positions.name):
            return True  # made before per-aggregate positions: rebuild to fill them
        return any(found.has_table(t.name) and
                   {c["name"] for c in found.get_columns(t.name)} != set(t.columns.keys())
                   for t in self.metadata.sorted_tables)

    def drop(self) -> None:
        """Drops the tables and the tracking, for a rebuild from zero."""
        self.metadata.drop_all(self.datastore.engine)
        self.positions.drop(self.datastore.engine, checkfirst=True)
        self.tracking_table.drop(self.datastore.engine, checkfirst=True)

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table, sorted: for comparing a rebuild with the live one."""
        with self.transaction(commit=False) as session:
            return {t.name: sorted(tuple(r) for r in session.execute(select(t)).all())
                    for t in self.metadata.sorted_tables}

    def applied_version(self, aggregate_id: UUID) -> int:
        """The last version of the aggregate applied (0 for none)."""
        with self.transaction(commit=False) as session:
            return session.execute(select(self.positions.c.version).where(
                self.positions.c.aggregate_id == aggregate_id)).scalar() or 0

    def applied_versions(self, aggregate_ids: Collection[UUID]) -> dict[UUID, int]:
        """The last version applied of each aggregate that has one."""
        with self.transaction(commit=False) as session:
            return dict(session.execute(select(
                self.positions.c.aggregate_id, self.positions.c.version).where(
                self.positions.c.aggregate_id.in_(list(aggregate_ids)))).tuples().all())

    def first_unapplied(self, events: Table, after: int = 0) -> int | None:
        """The first notification id above ``after`` whose event is not applied yet, or None
        when every stored event is: the low-water mark of a read model fed out of order."""
        p = self.positions
        with self.transaction(commit=False) as session:
            return session.execute(
                select(func.min(events.c.id))
                .select_from(events.outerjoin(p, p.c.aggregate_id == events.c.originator_id))
                .where(events.c.id > after)
                .where(p.c.version.is_(None) | (p.c.version < events.c.originator_version))
            ).scalar()

    def _insert_tracking(self, session: Any, tracking: Tracking) -> None:
        if not isinstance(tracking, EventTracking):
            super()._insert_tracking(session, tracking)
            return
        self._advance(session, tracking)
        if tracking.in_log_order:
            super()._insert_tracking(session, tracking)

    def _advance(self, session: Any, tracking: EventTracking) -> None:
        """Moves the aggregate's position to the event's version, in the view's transaction;
        refuses a duplicate or a gap. The conditional update serialises concurrent workers."""
        p = self.positions
        moved = session.execute(update(p).where(
            p.c.aggregate_id == tracking.aggregate_id, p.c.version == tracking.version - 1
        ).values(version=tracking.version, notification_id=tracking.notification_id)).rowcount
        if moved:
            return
        if tracking.version != 1:
            raise NotNextVersion(tracking)
        session.execute(insert(p).values(aggregate_id=tracking.aggregate_id, version=1,
                                         notification_id=tracking.notification_id))
