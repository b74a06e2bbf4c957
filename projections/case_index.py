"""The per-state case index: what lists and filters read, built from the case events.

Holds clear facts only, and each case's latest title as the sealed token it travelled in; a
title is opened per request with the viewer's key, never stored in clear.

Each reader row repeats the facts a list filters and sorts on (owner, status, tier, opened,
updated), so that a state's page is a range read of one index, whatever the filter: at
100,000 cases a join then sort over every case a state reads took ~200 ms a page. The
count of a state's cases, in all and per owner, status and tier, is kept beside them
(`case_counts`): counting 63,000 reader rows at every page took ~20 ms on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    inspect,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from cases.casework.case import Case

from .read_model import ReadModel, insert_rows, update_rows

metadata = MetaData()

case_index = Table(
    "case_index",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("owner", String(3), nullable=False),
    Column("status", String(32), nullable=False),
    Column("tier", String(16), nullable=False),
    Column("opened", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("recipients", Text, nullable=False),
    Column("title_token", Text, nullable=False),
    Column("title_key_version", Integer, nullable=False),
    Column("shredded_on", DateTime(timezone=True)),  # set when the keys were deleted
)

case_readers = Table(
    "case_readers",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("state", String(3), primary_key=True),
    Column("owner", String(3), nullable=False),
    Column("status", String(32), nullable=False),
    Column("tier", String(16), nullable=False),
    Column("opened", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Index("case_readers_by_updated", "state", "updated", "case_id"),
    Index("case_readers_by_opened", "state", "opened", "case_id"),
    *(Index(f"case_readers_by_{fact}", "state", fact, "updated", "case_id")
      for fact in ("owner", "status", "tier")),
)
LISTED = ("owner", "status", "tier", "opened", "updated")  # repeated on the reader rows
SORTS = ("updated", "opened", "status", "owner", "tier")  # what a state's cases sort by

case_counts = Table(
    "case_counts",
    metadata,
    Column("state", String(3), primary_key=True),
    Column("fact", String(8), primary_key=True),  # "" for every case, or one of COUNTED
    Column("value", String(32), primary_key=True),
    Column("cases", Integer, nullable=False),
)
COUNTED = ("owner", "status", "tier")  # the facts a state's cases are counted by
_PENDING_COUNTS = "divex.case_counts"  # the count changes of a batch, in its session's info
_PENDING_CASES = "divex.case_changes"  # the case changes of a batch, merged per case


@dataclass
class _CaseChange:
    """What a batch's events do to one case's rows: ``created`` (the new row's facts, for a
    case opened in the batch), the columns they change, the readers they leave."""

    created: dict[str, Any] | None
    changes: dict[str, Any] = field(default_factory=dict)
    readers: list[str] | None = None


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    owner: str
    status: str
    tier: str
    opened: datetime
    updated: datetime
    version: int
    recipients: list[str]
    title_token: str
    title_key_version: int
    shredded_on: datetime | None = None


@dataclass(frozen=True)
class CaseOrder:
    """How a list of cases is sorted: by one of `SORTS`, in one direction.

    Ties are broken by the last change (for a status, tier or owner) then the case id, in
    the same direction: one index per column (`case_readers_by_*`) then reads a page in
    either direction without sorting the state's rows. A status sorts by its code."""

    by: str = "updated"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.by not in SORTS:
            raise ValueError(f"cases do not sort by {self.by!r}")

    def clauses(self) -> list[Any]:
        r = case_readers.c
        columns = [r[self.by], *(() if self.by in ("updated", "opened") else (r.updated,)),
                   r.case_id]
        return [c.desc() if self.descending else c.asc() for c in columns]


@dataclass(frozen=True)
class CaseFilter:
    status: str = ""
    tier: str = ""
    owner: str = ""
    updated_from: datetime | None = None
    updated_to: datetime | None = None


class CaseIndexView(ReadModel):
    """The index tables; each write commits with its tracking record."""

    metadata = metadata

    def create_table(self) -> None:
        """Creates the tables; a store from before the counts has them counted once from its
        reader rows."""
        found = inspect(self.datastore.engine)
        if (found.has_table(case_readers.name) and not found.has_table(case_counts.name)
                and not self._outdated()):
            self._count_readers()
        super().create_table()

    def _count_readers(self) -> None:
        """Creates and fills `case_counts` in one transaction; a process starting at the same
        time loses the race to create it and finds it made and filled."""
        r = case_readers.c
        engine = self.datastore.engine
        try:
            with engine.begin() as db:
                case_counts.create(db)
                db.execute(insert(case_counts).from_select(
                    ["state", "fact", "value", "cases"],
                    select(r.state, literal(""), literal(""), func.count()).group_by(r.state)))
                for fact in COUNTED:
                    db.execute(insert(case_counts).from_select(
                        ["state", "fact", "value", "cases"],
                        select(r.state, literal(fact), r[fact], func.count())
                        .group_by(r.state, r[fact])))
        except DBAPIError:
            if not inspect(engine).has_table(case_counts.name):
                raise

    def record(self, tracking: Tracking, case_id: str, *, created: dict[str, Any] | None = None,
               changes: dict[str, Any] | None = None, readers: list[str] | None = None) -> None:
        """Notes an event's change to a case's rows; `record_positions` writes the batch's
        changes, merged per case (a case's events mostly come together: one row written
        instead of two or three statements per event)."""
        with self.transaction(commit=True) as session:
            pending = session.info.setdefault(_PENDING_CASES, {})
            case = pending.setdefault(case_id, _CaseChange(created))
            case.changes.update(changes or {})
            if readers is not None:
                case.readers = list(readers)
            self._insert_tracking(session, tracking)

    def recipients(self, case_id: str) -> set[str]:
        """The states that read the case, with the current batch's changes."""
        with self.transaction(commit=False) as session:
            case = session.info.get(_PENDING_CASES, {}).get(case_id)
            if case is not None and case.readers is not None:
                return set(case.readers)
            text = session.execute(select(case_index.c.recipients).where(
                case_index.c.case_id == case_id)).scalar() or ""
        return {s for s in text.split(",") if s}

    def _write_cases(self, session: Any, pending: dict[str, _CaseChange]) -> None:
        """Writes the batch's merged case changes, a statement per kind of change."""
        created = {k: c for k, c in pending.items() if c.created is not None}
        changed = {k: c for k, c in pending.items() if c.created is None}
        if created:
            insert_rows(session, case_index, [dict(c.created, **c.changes, case_id=k)
                                              for k, c in created.items()])
        _update_cases(session, case_index, {k: c.changes for k, c in changed.items()})
        # Reader rows: the new set where it changed (facts from the index, now written),
        # else the listed facts updated in place; counts move from the rows before.
        regrant = [k for k, c in changed.items() if c.readers is not None]
        relist = {k: c for k, c in changed.items()
                  if c.readers is None and c.changes.keys() & set(LISTED)}
        recount = regrant + [k for k, c in relist.items() if c.changes.keys() & set(COUNTED)]
        before = _reader_rows(session, recount)
        facts = _listed_facts(session, regrant)
        after = [dict(c.created, **c.changes, case_id=k, state=state)
                 for k, c in created.items() for state in c.readers or ()]
        after = [{f: row[f] for f in (*LISTED, "case_id", "state")} for row in after]
        after += [dict(facts[k], case_id=k, state=state)
                  for k in regrant for state in pending[k].readers or ()]
        if regrant:
            session.execute(delete(case_readers).where(case_readers.c.case_id.in_(regrant)))
        insert_rows(session, case_readers, after)
        _update_cases(session, case_readers, {
            k: {f: v for f, v in c.changes.items() if f in LISTED} for k, c in relist.items()})
        moved = [dict(row, **{f: v for f, v in pending[row["case_id"]].changes.items()
                              if f in COUNTED})
                 for row in before if row["case_id"] in relist]
        self._recount(session, before, moved + after)

    def _recount(self, session: Any, before: list[dict], after: list[dict]) -> None:
        """Notes how the counts move from the reader rows ``before`` the batch to those
        ``after`` it."""
        deltas = session.info.setdefault(_PENDING_COUNTS, Counter())
        for sign, rows in ((-1, before), (1, after)):
            for row in rows:
                deltas[(row["state"], "", "")] += sign
                for fact in COUNTED:
                    deltas[(row["state"], fact, row[fact])] += sign

    def write_pending(self, session: Any) -> None:
        """Writes the batch's case changes and count changes. The counts are written once
        per batch and in key order: a state's counts are touched by most of its events, and
        two workers locking them event by event, each in its own order, deadlocked."""
        self._write_cases(session, session.info.pop(_PENDING_CASES, {}))
        deltas = session.info.pop(_PENDING_COUNTS, Counter())
        moved = [dict(state=state, fact=fact, value=value, cases=delta)
                 for (state, fact, value), delta in sorted(deltas.items()) if delta]
        if moved:
            dialect = postgresql if self.datastore.engine.dialect.name == "postgresql" \
                else sqlite
            upsert = dialect.insert(case_counts)
            session.execute(upsert.on_conflict_do_update(
                index_elements=["state", "fact", "value"],
                set_={"cases": case_counts.c.cases + upsert.excluded.cases}), moved)
            session.execute(delete(case_counts).where(
                case_counts.c.state.in_({m["state"] for m in moved}),
                case_counts.c.cases == 0))

    def list_for(self, state: str, where: CaseFilter, offset: int = 0, limit: int = 20,
                 order: CaseOrder = CaseOrder()) -> tuple[list[CaseRow], int]:
        """A page of the cases a state can read, in ``order`` (latest change first by
        default), and the total count.

        The page reads the state's reader rows only, through the index that leads with the
        filter's fact; its rows are then fetched by key. The total is read from the counts
        when the filter names at most one counted fact, else counted from the reader rows."""
        r = case_readers.c
        chosen = chosen_by(state, where)
        with self.transaction(commit=False) as session:
            total = session.execute(_total(state, where, chosen)).scalar() or 0
            page = session.execute(select(r.case_id).where(chosen)
                                   .order_by(*order.clauses())
                                   .offset(offset).limit(limit)).scalars().all()
            return self.rows(session, page), int(total)

    @staticmethod
    def rows(session: Any, case_ids: list[str]) -> list[CaseRow]:
        """The index rows of ``case_ids``, in that order."""
        rows = {row.case_id: row for row in session.execute(
            select(case_index).where(case_index.c.case_id.in_(case_ids))).all()}
        return [_row(rows[case_id]) for case_id in case_ids if case_id in rows]

    def portal_cases_lacking(self, owner: str, parties: list[str], limit: int) -> list[str]:
        """The owner's portal cases (not shredded) that some of ``parties`` cannot read yet,
        latest change first."""
        r, other = case_readers.c, case_readers.alias("other")
        held = (select(func.count()).select_from(other)
                .where(other.c.case_id == r.case_id, other.c.state.in_(parties))
                .scalar_subquery())
        chosen = (select(r.case_id)
                  .join(case_index, case_index.c.case_id == r.case_id)
                  .where(r.state == owner, r.tier == "portal", r.owner == owner,
                         case_index.c.shredded_on.is_(None), held < len(set(parties)))
                  .order_by(r.updated.desc()).limit(limit))
        with self.transaction(commit=False) as session:
            return list(session.execute(chosen).scalars())


def chosen_by(state: str, where: CaseFilter) -> Any:
    """The condition on a state's reader rows that the filter keeps."""
    r = case_readers.c
    chosen = r.state == state
    for fact in ("status", "tier", "owner"):
        if getattr(where, fact):
            chosen &= r[fact] == getattr(where, fact)
    if where.updated_from:
        chosen &= r.updated >= where.updated_from
    if where.updated_to:
        chosen &= r.updated <= where.updated_to
    return chosen


def _update_cases(session: Any, table: Table, changes: dict[str, dict[str, Any]]) -> None:
    """Sets each case's changed columns on its rows: a statement per set of columns."""
    by_columns: dict[frozenset[str], list[dict[str, Any]]] = {}
    for case_id, changed in changes.items():
        if changed:
            by_columns.setdefault(frozenset(changed), []).append(
                {"case_key": case_id, **{f"new_{k}": v for k, v in changed.items()}})
    for columns, values in by_columns.items():
        update_rows(session, table, {"case_id": "case_key"},
                    {name: f"new_{name}" for name in sorted(columns)}, values)


def _reader_rows(session: Any, case_ids: list[str]) -> list[dict]:
    r = case_readers.c
    return [row._asdict() for row in session.execute(
        select(r.case_id, r.state, *(r[f] for f in COUNTED))
        .where(r.case_id.in_(case_ids))).all()] if case_ids else []


def _listed_facts(session: Any, case_ids: list[str]) -> dict[str, dict]:
    c = case_index.c
    return {row.case_id: {f: getattr(row, f) for f in LISTED} for row in session.execute(
        select(c.case_id, *(c[f] for f in LISTED)).where(c.case_id.in_(case_ids)))} \
        if case_ids else {}


def _total(state: str, where: CaseFilter, chosen: Any) -> Any:
    """The query of how many of a state's cases the filter keeps."""
    named = [fact for fact in COUNTED if getattr(where, fact)]
    if where.updated_from or where.updated_to or len(named) > 1:
        return select(func.count()).select_from(case_readers).where(chosen)
    fact = named[0] if named else ""
    c = case_counts.c
    return select(c.cases).where(c.state == state, c.fact == fact,
                                 c.value == (getattr(where, fact) if fact else ""))


def _row(r: Any) -> CaseRow:
    m = dict(r._mapping)
    m["recipients"] = [s for s in m["recipients"].split(",") if s]
    return CaseRow(**m)


class CaseIndex(Projection[CaseIndexView]):
    """Projects case events into the index."""

    name = "case_index"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # not a case event: only move the position

    @process_event.register
    def _(self, event: Case.Opened, tracking: Tracking) -> None:
        readers = sorted({g["recipient"] for g in event.grants})
        self.view.record(tracking, str(event.originator_id), readers=readers, created=dict(
            owner=event.owner, status="suspected", tier="national", opened=event.timestamp,
            updated=event.timestamp, version=event.originator_version,
            recipients=",".join(readers), title_token=event.title,
            title_key_version=event.key_version))

    @process_event.register
    def _(self, event: Case.ContentRevised, tracking: Tracking) -> None:
        self._touch(event, tracking, title_token=event.title,
                    title_key_version=event.key_version)

    @process_event.register
    def _(self, event: Case.StatusChanged, tracking: Tracking) -> None:
        self._touch(event, tracking, status=event.status)

    @process_event.register(Case.PartAdded)
    @process_event.register(Case.PartRevised)
    @process_event.register(Case.PartRemoved)
    @process_event.register(Case.RetentionSet)
    @process_event.register(Case.ShredRequested)
    @process_event.register(Case.ShredRequestWithdrawn)
    def _(self, event: Any, tracking: Tracking) -> None:
        self._touch(event, tracking)

    @process_event.register
    def _(self, event: Case.Shredded, tracking: Tracking) -> None:
        # The sealed title goes: no key opens it any more, and it is content.
        self._touch(event, tracking, title_token="", title_key_version=0,
                    shredded_on=event.timestamp)

    @process_event.register
    def _(self, event: Case.Shared, tracking: Tracking) -> None:
        readers = self._readers(event) | set(event.added)
        self._touch(event, tracking, readers=sorted(readers), tier=event.tier,
                    recipients=",".join(sorted(readers)))

    @process_event.register
    def _(self, event: Case.Unshared, tracking: Tracking) -> None:
        readers = self._readers(event) - set(event.removed)
        self._touch(event, tracking, readers=sorted(readers), tier=event.tier,
                    recipients=",".join(sorted(readers)))

    def _readers(self, event: Any) -> set[str]:
        return self.view.recipients(str(event.originator_id))

    def _touch(self, event: Any, tracking: Tracking, readers: list[str] | None = None,
               **changes: Any) -> None:
        self.view.record(tracking, str(event.originator_id), readers=readers,
                         changes=dict(changes, updated=event.timestamp,
                                      version=event.originator_version))
