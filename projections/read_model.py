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
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
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
        for table in self.metadata.sorted_tables:  # indexes added since the tables were made
            for index in table.indexes:
                try:
                    index.create(self.datastore.engine, checkfirst=True)
                except DBAPIError:  # another process preparing the store made it meanwhile
                    if not any(i["name"] == index.name for i in
                               inspect(self.datastore.engine).get_indexes(table.name)):
                        raise
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

    def write_pending(self, session: Any) -> None:
        """Writes what the batch's events left pending in the session (views that gather
        their rows per batch); `record_positions` calls it before the positions."""

    def record_positions(self, moves: Mapping[UUID, Move], high_water: int | None = None,
                         application_name: str = "") -> None:
        """`record_positions_of` for this view alone."""
        record_positions_of([(self, moves)], high_water, application_name)

    def _write_positions(self, session: Any, new: list[dict[str, Any]],
                         later: list[dict[str, Any]], high_water: int | None,
                         application_name: str) -> None:
        insert_rows(session, self.positions, new)
        if later and update_rows(session, self.positions,
                                 {"aggregate_id": "key", "version": "before"},
                                 {"version": "after", "notification_id": "at"},
                                 later) < len(later):
            raise NotNextVersion(later[0]["key"])
        if high_water is not None:
            self._raise_high_water(session, application_name, high_water)

    def _raise_high_water(self, session: Any, application_name: str, high_water: int,
                          tried: bool = False) -> None:
        """Raises the high-water mark (``tried``: the conditional update already ran and
        moved nothing), creating the tracking row the first time."""
        t = self.tracking_table
        moved = 0 if tried else session.execute(update(t).where(
            t.c.application_name == application_name, t.c.notification_id < high_water
        ).values(notification_id=high_water)).rowcount
        if not moved and session.execute(select(t.c.notification_id).where(
                t.c.application_name == application_name)).first() is None:
            session.execute(insert(t).values(application_name=application_name,
                                             notification_id=high_water))


def applied_versions_of(views: Sequence[ReadModel],
                        aggregate_ids: Collection[UUID]) -> list[dict[UUID, int]]:
    """For each view, the last version applied of each of the aggregates that has one: one
    query for all the views (on PostgreSQL each query is a round trip)."""
    ids = list(aggregate_ids)
    union = union_all(*(select(literal(i).label("view"), v.positions.c.aggregate_id,
                               v.positions.c.version)
                        .where(v.positions.c.aggregate_id.in_(ids))
                        for i, v in enumerate(views)))
    applied: list[dict[UUID, int]] = [{} for _ in views]
    with views[0].transaction(commit=False) as session:
        for view, aggregate_id, version in session.execute(union):
            applied[view][aggregate_id] = version
    return applied


def record_positions_of(batch: Sequence[tuple[ReadModel, Mapping[UUID, Move]]],
                        high_water: int | None = None, application_name: str = "") -> None:
    """Writes what each view left pending, then moves each aggregate's position, in the
    current transaction, and raises the views' high-water marks to ``high_water`` when given
    (a source in log order). A position no longer at ``before`` means another process
    applied these events: `NotNextVersion`, and the caller's transaction rolls back. The
    conditional update serialises workers.

    On PostgreSQL the positions and marks of all the views are written in one statement: a
    follower's batch of a few events spent most of its time in a dozen round trips."""
    with batch[0][0].transaction(commit=True) as session:
        for view, _ in batch:
            view.write_pending(session)
        split = [(view, *_split(moves)) for view, moves in batch]
        if session.get_bind().dialect.name != "postgresql":
            for view, new, later in split:
                view._write_positions(session, new, later, high_water, application_name)
            return
        statement = _positions_statement(
            tuple((view, bool(new), bool(later)) for view, new, later in split),
            high_water is not None)
        if statement is None:
            return
        values: dict[str, Any] = {}
        for i, (_, new, later) in enumerate(split):
            values.update({f"n{i}_{k}": [r[c] for r in new] for k, c in (
                ("key", "aggregate_id"), ("after", "version"), ("at", "notification_id"))})
            values.update({f"m{i}_{k}": [r[k] for r in later]
                           for k in ("key", "before", "after", "at")})
        if high_water is not None:
            values.update(high_water=high_water, application=application_name)
        counts = session.execute(statement, values).one()._mapping
        for i, (view, _, later) in enumerate(split):
            if counts.get(f"m{i}", 0) < len(later):
                raise NotNextVersion(later[0]["key"])
            if high_water is not None and not counts[f"h{i}"]:
                view._raise_high_water(session, application_name, high_water, tried=True)


def _split(moves: Mapping[UUID, Move]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The positions to insert (aggregates new to the view) and those to move on."""
    new = [dict(aggregate_id=aggregate_id, version=move.after,
                notification_id=move.notification_id)
           for aggregate_id, move in moves.items() if not move.before]
    later = [dict(key=aggregate_id, before=move.before, after=move.after,
                  at=move.notification_id) for aggregate_id, move in moves.items() if move.before]
    return new, later


@cache
def _positions_statement(shape: tuple[tuple[ReadModel, bool, bool], ...],
                         high_water: bool) -> Any:
    """The one PostgreSQL statement of `record_positions_of` for views that have (view, new
    positions, moved positions) to write (data-modifying WITH clauses, one table each,
    counted in the SELECT); its names are the code's, never data. None when there is
    nothing to write."""
    dialect = postgresql.dialect()
    clauses, counted = [], []
    for i, (view, inserted, moved) in enumerate(shape):
        p, c = view.positions.name, view.positions.c
        key_type = c.aggregate_id.type.compile(dialect=dialect)
        if inserted:
            clauses.append(
                f"n{i} AS (INSERT INTO {p} (aggregate_id, version, notification_id) "
                f"SELECT * FROM unnest(CAST(:n{i}_key AS {key_type}[]), "
                f"CAST(:n{i}_after AS INTEGER[]), CAST(:n{i}_at AS BIGINT[])) RETURNING 1)")
        if moved:
            clauses.append(
                f"m{i} AS (UPDATE {p} SET version = g.after_, notification_id = g.at_ "
                f"FROM unnest(CAST(:m{i}_key AS {key_type}[]), CAST(:m{i}_before AS "
                f"INTEGER[]), CAST(:m{i}_after AS INTEGER[]), CAST(:m{i}_at AS BIGINT[])) "
                f"AS g(key_, before_, after_, at_) WHERE {p}.aggregate_id = g.key_ "
                f"AND {p}.version = g.before_ RETURNING 1)")
            counted.append(f"(SELECT count(*) FROM m{i}) AS m{i}")
        if high_water:
            t = view.tracking_table.name
            clauses.append(
                f"h{i} AS (UPDATE {t} SET notification_id = :high_water WHERE "
                f"application_name = :application AND notification_id < :high_water "
                f"RETURNING 1)")
            counted.append(f"(SELECT count(*) FROM h{i}) AS h{i}")
    if not clauses:
        return None
    return text(f"WITH {', '.join(clauses)} SELECT {', '.join(counted) or '1'}")


def insert_rows(session: Any, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Inserts many rows. On PostgreSQL it is one statement over arrays per set of columns
    given (``INSERT … SELECT FROM unnest(…)``): an executemany sends a statement per row
    (pipelined by psycopg, still a third of the audit index's replay). SQLite runs an
    executemany in process."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    shapes: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    for columns, same in shapes.items():
        session.execute(_insert_from_arrays(table, columns),
                        {f"c{i}": [row[c] for row in same] for i, c in enumerate(columns)})


@cache
def _insert_from_arrays(table: Table, columns: tuple[str, ...]) -> Any:
    """The PostgreSQL statement of `insert_rows`; its names are the code's, never data."""
    dialect = postgresql.dialect()
    arrays = ", ".join(f"CAST(:c{i} AS {table.c[c].type.compile(dialect=dialect)}[])"
                       for i, c in enumerate(columns))
    return text(f'INSERT INTO {table.name} ({", ".join(columns)}) '
                f'SELECT * FROM unnest({arrays})')


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
