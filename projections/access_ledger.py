"""The access ledger: which states could read which case, trace request or lesson, and when.

Built from the events that hand out or take back case keys: every grant (a case opened,
shared or tabled, a trace request sent, a lesson proposed) opens an access period for the
recipient; an unshare (or a state leaving the meeting it read through) closes it, and
crypto-shredding closes every period of the case and of its trace requests. "Could read at T"
means the state held the key to the record's content current at T: after an unshare the
state keeps what it had already read, but nothing from then on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    and_,
    bindparam,
    insert,
    or_,
    select,
    update,
)

from cases.casework.case import Case
from cases.meetings.meeting import Meeting
from cases.tracing.trace_request import TraceRequest

from .read_model import ReadModel, insert_rows

metadata = MetaData()

access_periods = Table(
    "access_periods",
    metadata,
    Column("aggregate_id", String(36), primary_key=True),
    Column("state", String(3), primary_key=True, index=True),
    Column("since_notification", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("case_id", String(36), nullable=False, index=True),  # the case it belongs to
    Column("since", DateTime(timezone=True), nullable=False),
    Column("until", DateTime(timezone=True)),
    Column("until_notification", Integer),
)

# The key versions handed to each state, and when: beside the periods, so the versions a
# state held at any moment are exact (a period outlives several rotations).
key_grants = Table(
    "access_key_grants",
    metadata,
    Column("aggregate_id", String(36), primary_key=True),
    Column("state", String(3), primary_key=True),
    Column("key_version", Integer, primary_key=True),
    Column("notification_id", Integer, primary_key=True),
    Column("granted", DateTime(timezone=True), nullable=False),
)


# Each shredded case: a grant of one of its trace requests that reaches a worker after the
# shredding (Kafka keeps order per record only) is closed at once, as in log order.
shreddings = Table(
    "access_shreddings",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("moment", DateTime(timezone=True), nullable=False),
    Column("notification_id", Integer, nullable=False),
)


@dataclass(frozen=True)
class AccessRow:
    aggregate_id: str
    kind: str
    case_id: str
    since: datetime
    key_versions: tuple[int, ...] = ()  # the versions handed to the state by that moment


_PENDING = "divex.access_ledger"  # the batch's access changes, in its session's info


@dataclass
class _PendingAccess:
    """What a batch changes, written by `write_pending`: the open states of each record it
    touched (read once per record), the periods it opens (closed in place when the batch
    closes them too), the earlier periods it closes, and the key versions it hands out."""

    open: dict[str, dict[str, dict[str, Any] | None]] = field(default_factory=dict)
    opened: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    handed: list[dict[str, Any]] = field(default_factory=list)


class AccessLedgerView(ReadModel):

    metadata = metadata

    def grant(self, tracking: Tracking, aggregate: str, moment: datetime, kind: str,
              case_id: str, grants: list[dict[str, Any]],
              removed: list[str] | None = None, created: bool = False) -> None:
        """Records the key versions handed over and opens a period for each recipient that
        holds no open one; closes the periods of ``removed`` states at ``moment``. Noted
        for the batch: a grant was four statements. ``created``: the event starts the
        record, so it has no period yet (every source keeps each record's order)."""
        with self.transaction(commit=True) as session:
            pending = session.info.setdefault(_PENDING, _PendingAccess())
            if created:
                pending.open[aggregate] = {}
            open_now = self._open_states(session, pending, aggregate)
            for state in removed or ():
                if state in open_now:
                    period = open_now.pop(state)
                    if period is None:  # opened before this batch
                        pending.closed.append(dict(of=aggregate, by=state, moment=moment,
                                                   at=tracking.notification_id))
                    else:
                        period.update(until=moment, until_notification=tracking.notification_id)
            for state in sorted({g["recipient"] for g in grants} - set(open_now)):
                period = dict(aggregate_id=aggregate, state=state, kind=kind, case_id=case_id,
                              since=moment, since_notification=tracking.notification_id,
                              until=None, until_notification=None)
                pending.opened.append(period)
                open_now[state] = period
            pending.handed.extend(
                dict(aggregate_id=aggregate, state=state, key_version=version,
                     notification_id=tracking.notification_id, granted=moment)
                for state, version in sorted({(g["recipient"], int(g["key_version"]))
                                              for g in grants}))
            self._insert_tracking(session, tracking)

    @staticmethod
    def _open_states(session: Any, pending: _PendingAccess,
                     aggregate: str) -> dict[str, dict[str, Any] | None]:
        """The states holding an open period of the record: None for one opened before the
        batch, the pending row for one the batch opened."""
        if aggregate not in pending.open:
            pending.open[aggregate] = dict.fromkeys(session.execute(
                select(access_periods.c.state).where(access_periods.c.aggregate_id == aggregate,
                                                     access_periods.c.until.is_(None))
            ).scalars())
        return pending.open[aggregate]

    def write_pending(self, session: Any) -> None:
        """Writes the batch's periods and key versions; then closes at once the periods it
        opened of a case shredded later in the log (Kafka keeps order per record only, so a
        grant of one of its trace requests may come after the shredding)."""
        pending = session.info.pop(_PENDING, None)
        if pending is None:
            return
        if pending.closed:
            session.execute(update(access_periods).where(
                access_periods.c.aggregate_id == bindparam("of"),
                access_periods.c.state == bindparam("by"),
                access_periods.c.until.is_(None)).values(
                until=bindparam("moment"), until_notification=bindparam("at")), pending.closed)
        insert_rows(session, access_periods, pending.opened)
        insert_rows(session, key_grants, pending.handed)
        cases = {period["case_id"] for period in pending.opened}
        if cases:
            for shredded in session.execute(select(shreddings).where(
                    shreddings.c.case_id.in_(sorted(cases)))):
                self._close_case(session, shredded.case_id, shredded.moment,
                                 shredded.notification_id, granted_before=True)

    def revoke_case(self, tracking: Tracking, case_id: str, moment: datetime) -> None:
        """Closes every open period of a case and of its trace requests (crypto-shredding),
        the batch's pending ones written first."""
        with self.transaction(commit=True) as session:
            self.write_pending(session)
            session.execute(insert(shreddings).values(
                case_id=case_id, moment=moment, notification_id=tracking.notification_id))
            self._close_case(session, case_id, moment, tracking.notification_id)
            self._insert_tracking(session, tracking)

    @staticmethod
    def _close_case(session: Any, case_id: str, moment: datetime, notification_id: int,
                    granted_before: bool = False) -> None:
        """Closes the open periods of the case (``granted_before``: only those granted
        before the shredding at ``notification_id``, as in log order)."""
        query = update(access_periods).where(access_periods.c.case_id == case_id,
                                             access_periods.c.until.is_(None))
        if granted_before:
            query = query.where(access_periods.c.since_notification < notification_id)
        session.execute(query.values(until=moment, until_notification=notification_id))

    def readers_at(self, aggregate_id: str, moment: datetime) -> list[str]:
        """The states that could read the record at ``moment``."""
        with self.transaction(commit=False) as session:
            return sorted(set(session.execute(select(access_periods.c.state).where(
                access_periods.c.aggregate_id == aggregate_id, _open_at(moment))).scalars()))

    def access_of(self, state: str, moment: datetime) -> list[AccessRow]:
        """Every record the state could read at ``moment``, oldest access first, with the key
        versions it had been handed by then."""
        with self.transaction(commit=False) as session:
            rows = session.execute(select(
                access_periods.c.aggregate_id, access_periods.c.kind, access_periods.c.case_id,
                access_periods.c.since).where(access_periods.c.state == state,
                                              _open_at(moment))
                .order_by(access_periods.c.since, access_periods.c.aggregate_id)).all()
            held: dict[str, set[int]] = {}
            for aggregate, version in session.execute(select(
                    key_grants.c.aggregate_id, key_grants.c.key_version).where(
                    key_grants.c.state == state, key_grants.c.granted <= moment,
                    key_grants.c.aggregate_id.in_([r[0] for r in rows]))):
                held.setdefault(aggregate, set()).add(version)
        return [AccessRow(*row, key_versions=tuple(sorted(held.get(row[0], ()))))
                for row in rows]


def _open_at(moment: datetime) -> Any:
    return and_(access_periods.c.since <= moment,
                or_(access_periods.c.until.is_(None), access_periods.c.until > moment))


class AccessLedger(Projection[AccessLedgerView]):
    name = "access_ledger"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, event: Case.Opened, tracking: Tracking) -> None:
        case = str(event.originator_id)
        self.view.grant(tracking, case, event.timestamp, "case", case, event.grants,
                        created=True)

    @process_event.register
    def _(self, event: Case.Shared, tracking: Tracking) -> None:
        case = str(event.originator_id)
        self.view.grant(tracking, case, event.timestamp, "case", case, event.grants)

    @process_event.register
    def _(self, event: Case.Unshared, tracking: Tracking) -> None:
        # The removed are out from now on; who remains is handed the new key version.
        case = str(event.originator_id)
        self.view.grant(tracking, case, event.timestamp, "case", case, event.grants,
                        removed=list(event.removed))

    @process_event.register
    def _(self, event: Case.Shredded, tracking: Tracking) -> None:
        self.view.revoke_case(tracking, str(event.originator_id), event.timestamp)

    @process_event.register
    def _(self, event: TraceRequest.Sent, tracking: Tracking) -> None:
        self.view.grant(tracking, str(event.originator_id), event.timestamp, "trace_request",
                        event.case_id, event.grants, created=True)

    @process_event.register
    def _(self, event: Meeting.LessonProposed, tracking: Tracking) -> None:
        # A lesson is keyed by its own id in the keystore, and belongs to no case.
        self.view.grant(tracking, event.lesson_id, event.timestamp, "lesson", event.lesson_id,
                        event.grants)
