"""The per-state case index: what lists and filters read, built from the case events.

Holds clear facts only, and each case's latest title as the sealed token it travelled in; a
title is opened per request with the viewer's key, never stored in clear.
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
    Column("owner", String(3), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("tier", String(16), nullable=False),
    Column("opened", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False, index=True),
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
    Column("state", String(3), primary_key=True, index=True),
)


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
            if readers is not None:
                session.execute(delete(case_readers).where(case_readers.c.case_id == case_id))
                for state in readers:
                    session.execute(insert(case_readers).values(case_id=case_id, state=state))
            self._insert_tracking(session, tracking)

    def list_for(self, state: str, where: CaseFilter, offset: int = 0,
                 limit: int = 20) -> tuple[list[CaseRow], int]:
        """A page of the cases a state can read, newest change first, and the total count.

        Unfiltered, the page is read by walking the index on ``updated`` and keeping the
        cases the state reads, when that reaches the page sooner than sorting all of them
        (a state reading most of 100,000 cases: 3 ms instead of 130 ms).
        """
        order = (case_index.c.updated.desc(), case_index.c.case_id)
        reads = case_readers.c.state == state
        with self.transaction(commit=False) as session:
            if where == CaseFilter():
                total = session.execute(select(func.count()).where(reads)).scalar() or 0
                cases = session.execute(select(func.count()).select_from(case_index)).scalar()
                if (offset + limit) * (cases or 0) < total * total:
                    readable = select(case_readers.c.case_id).where(
                        reads, case_readers.c.case_id == case_index.c.case_id).exists()
                    rows = session.execute(select(case_index).where(readable).order_by(*order)
                                           .offset(offset).limit(limit)).all()
                    return [_row(r) for r in rows], int(total)
            query = select(case_index).join(
                case_readers, case_readers.c.case_id == case_index.c.case_id).where(reads)
            for column in ("status", "tier", "owner"):
                if getattr(where, column):
                    query = query.where(case_index.c[column] == getattr(where, column))
            if where.updated_from:
                query = query.where(case_index.c.updated >= where.updated_from)
            if where.updated_to:
                query = query.where(case_index.c.updated <= where.updated_to)
            total = session.execute(select(func.count()).select_from(query.subquery())).scalar()
            rows = session.execute(query.order_by(*order).offset(offset).limit(limit)).all()
        return [_row(r) for r in rows], int(total or 0)


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
