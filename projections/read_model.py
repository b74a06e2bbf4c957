"""What every read model shares: its tables beside its tracking tables, dropped and dumped
together (for `divex projections rebuild` and the tests that compare a rebuild).

Two tracking tables keep each event applied once. The position table holds, per aggregate,
the last version applied: an event commits only if it is the next version of its aggregate, so
duplicates are absorbed and no event overtakes an earlier one of the same record, whatever the
source (the log in order, or Kafka partitions, where only per-aggregate order holds).
eventsourcing's tracking table holds the follower's high-water mark in the log.

The follower writes both once per batch (`record_positions`), in the transaction of the batch's
view updates, rather than once per event: a batch of 500 events then costs one conditional
update per record it touched instead of four statements per event.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
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
    bindparam,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy_utils.types.uuid import UUIDType


@dataclass(frozen=True)
class EventTracking(Tracking):
    """Where an event sits in the log and in its aggregate."""

    aggregate_id: UUID
    version: int


@dataclass(frozen=True)
class Move:
    """An aggregate's position in a read model going from one version to a later one."""

    before: int
    after: int
    notification_id: int


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
        """Views call this with each event's tracking; positions of an `EventTracking` are
        recorded for the whole batch by `record_positions`, so only other trackings write."""
        if not isinstance(tracking, EventTracking):
            super()._insert_tracking(session, tracking)

    def record_positions(self, moves: Mapping[UUID, Move], high_water: int | None = None,
                         application_name: str = "") -> None:
        """Moves each aggregate's position, in the current transaction, and raises the
        high-water mark to ``high_water`` when given (a source in log order). A position no
        longer at ``before`` means another process applied these events: `NotNextVersion`,
        and the caller's transaction rolls back. The conditional update serialises workers."""
        p = self.positions
        with self.transaction(commit=True) as session:
            new = [dict(aggregate_id=aggregate_id, version=move.after,
                        notification_id=move.notification_id)
                   for aggregate_id, move in moves.items() if move.before == 0]
            if new:
                session.execute(insert(p), new)
            later = [dict(key=aggregate_id, before=move.before, after=move.after,
                          at=move.notification_id)
                     for aggregate_id, move in moves.items() if move.before]
            if later and self._moved(session, later) < len(later):
                raise NotNextVersion(later[0]["key"])
            if high_water is not None:
                self._raise_high_water(session, application_name, high_water)

    def _moved(self, session: Any, later: list[dict]) -> int:
        """Moves the positions ``later`` in one statement; returns how many moved."""
        return update_rows(session, self.positions, {"aggregate_id": "key", "version": "before"},
                           {"version": "after", "notification_id": "at"}, later)

    def _raise_high_water(self, session: Any, application_name: str, high_water: int) -> None:
        t = self.tracking_table
        moved = session.execute(update(t).where(
            t.c.application_name == application_name, t.c.notification_id < high_water
        ).values(notification_id=high_water)).rowcount
        if not moved and session.execute(select(t.c.notification_id).where(
                t.c.application_name == application_name)).first() is None:
            session.execute(insert(t).values(application_name=application_name,
                                             notification_id=high_water))



def update_rows(session: Any, table: Table, match: Mapping[str, str],
                assign: Mapping[str, str], rows: Sequence[Mapping[str, Any]]) -> int:
    """Updates many rows at once and returns how many were updated. Each of ``rows`` holds
    the values of the table's ``match`` columns (table column -> key in the row), which pick
    the row to update, and of its ``assign`` columns; a key must not be a column's name.

    On PostgreSQL it is one statement over arrays (``UPDATE … FROM unnest(…)``): an
    executemany runs a statement per row, and a follower's small batches spent most of
    their time in them. SQLite runs an executemany in process, without round trips."""
    if not rows:
        return 0
    pairs = (tuple(match.items()), tuple(assign.items()))
    if session.get_bind().dialect.name == "postgresql":
        keys = [key for part in pairs for _, key in part]
        return int(session.execute(_update_from_arrays(table, *pairs),
                                   {key: [row[key] for row in rows] for key in keys}).rowcount)
    return int(session.execute(_update_by_row(table, *pairs), list(rows)).rowcount)


@cache
def _update_by_row(table: Table, match: tuple[tuple[str, str], ...],
                   assign: tuple[tuple[str, str], ...]) -> Any:
    return update(table).where(*(table.c[c] == bindparam(k) for c, k in match)).values(
        {c: bindparam(k) for c, k in assign})


@cache
def _update_from_arrays(table: Table, match: tuple[tuple[str, str], ...],
                        assign: tuple[tuple[str, str], ...]) -> Any:
    """The PostgreSQL statement of `update_rows`; its names are the code's, never data."""
    dialect = postgresql.dialect()
    pairs = match + assign
    arrays = ", ".join(f"CAST(:{k} AS {table.c[c].type.compile(dialect=dialect)}[])"
                       for c, k in pairs)
    return text(
        f'UPDATE {table.name} SET {", ".join(f"{c} = given.{k}_" for c, k in assign)} '
        f'FROM unnest({arrays}) AS given({", ".join(f"{k}_" for _, k in pairs)}) '
        f'WHERE {" AND ".join(f"{table.name}.{c} = given.{k}_" for c, k in match)}')
