"""The per-state case index: what lists and filters read, built from the case events.

Holds clear facts only, and each case's latest title as the sealed token it travelled in; a
title is opened per request with the viewer's key, never stored in clear.

Each reader row repeats the facts a list filters and sorts on (owner, status, tier, updated),
so that a state's page and its count are range reads of one index, whatever the filter: at
100,000 cases a join then sort over every case a state reads took ~200 ms a page.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    select,
    update,
)

from cases.case import Case

from .read_model import ReadModel

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
    Column("updated", DateTime(timezone=True), nullable=False),
    Index("case_readers_by_updated", "state", "updated", "case_id"),
    *(Index(f"case_readers_by_{fact}", "state", fact, "updated", "case_id")
      for fact in ("owner", "status", "tier")),
)
LISTED = ("owner", "status", "tier", "updated")  # the facts repeated on the reader rows


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
class CaseFilter:
    status: str = ""
    tier: str = ""
    owner: str = ""
    updated_from: datetime | None = None
    updated_to: datetime | None = None


class CaseIndexView(ReadModel):
    """The index tables; each write commits with its tracking record."""

    metadata = metadata

    def record(self, tracking: Tracking, case_id: str, *, created: dict[str, Any] | None = None,
               changes: dict[str, Any] | None = None, readers: list[str] | None = None) -> None:
        with self.transaction(commit=True) as session:
            if created is not None:
                session.execute(insert(case_index).values(case_id=case_id, **created))
            if changes:
                session.execute(update(case_index).where(case_index.c.case_id == case_id)
                                .values(**changes))
            mine = case_readers.c.case_id == case_id
            if readers is not None:
                facts = ({f: created[f] for f in LISTED} if created is not None else
                         session.execute(select(*(case_index.c[f] for f in LISTED)).where(
                             case_index.c.case_id == case_id)).one()._asdict())
                session.execute(delete(case_readers).where(mine))
                if readers:
                    session.execute(insert(case_readers), [
                        dict(facts, case_id=case_id, state=state) for state in readers])
            elif listed := {k: v for k, v in (changes or {}).items() if k in LISTED}:
                session.execute(update(case_readers).where(mine).values(**listed))
            self._insert_tracking(session, tracking)

    def list_for(self, state: str, where: CaseFilter, offset: int = 0,
                 limit: int = 20) -> tuple[list[CaseRow], int]:
        """A page of the cases a state can read, latest change first, and the total count.

        Both read the state's reader rows only, through the index that leads with the filter's
        fact; the page's rows are then fetched by key."""
        r = case_readers.c
        chosen = r.state == state
        for fact in ("status", "tier", "owner"):
            if getattr(where, fact):
                chosen &= r[fact] == getattr(where, fact)
        if where.updated_from:
            chosen &= r.updated >= where.updated_from
        if where.updated_to:
            chosen &= r.updated <= where.updated_to
        with self.transaction(commit=False) as session:
            total = session.execute(select(func.count()).select_from(case_readers)
                                    .where(chosen)).scalar() or 0
            page = session.execute(select(r.case_id).where(chosen)
                                   .order_by(r.updated.desc(), r.case_id.desc())
                                   .offset(offset).limit(limit)).scalars().all()
            rows = {row.case_id: row for row in session.execute(
                select(case_index).where(case_index.c.case_id.in_(page))).all()}
        return [_row(rows[case_id]) for case_id in page], int(total)


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
        with self.view.transaction(commit=False) as session:
            text = session.execute(select(case_index.c.recipients).where(
                case_index.c.case_id == str(event.originator_id))).scalar() or ""
        return {s for s in text.split(",") if s}

    def _touch(self, event: Any, tracking: Tracking, readers: list[str] | None = None,
               **changes: Any) -> None:
        self.view.record(tracking, str(event.originator_id), readers=readers,
                         changes=dict(changes, updated=event.timestamp,
                                      version=event.originator_version))
