"""The exchange's one event store, and the signed, hash-chained event every aggregate records.

Every event has a clear header (all its fields but ``body`` and ``signature``) and an optional
sealed ``body`` (base64 of a `crypto` token). The acting state signs the canonical header plus
the digest of the body; ``prev_hash`` chains each event to the one before it in its aggregate.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Notification,
    StoredEvent,
    Transcoding,
)
from eventsourcing.utils import get_topic, register_topic
from eventsourcing_sqlalchemy.datastore import transactions
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import IntegrityError as SQLIntegrityError

from cases.kernel.errors import Conflict, NotFound
from cases.kernel.event_cache import EventCache
from crypto import GENESIS_HASH, StateKeyPair, canonical_json, sha256_hex, sign_and_hash_event
from crypto.canonical import PLAIN_TYPES
from crypto.chain import chained_hash

T = TypeVar("T")
# `Ledger.changes_after` reads at most this many events before answering yes unread.
LOOKED_AFTER = 1000

# Fields every event has but that are not part of what the actor asserts in the header body.
_NOT_IN_HEADER = {"originator_id", "originator_version", "timestamp", "originator_topic",
                  "body", "signature"}


def stored_as(module: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: an aggregate and its events keep the topics they were first stored
    under (``module:Qualname``), wherever their code lives now.

    A topic is written in every event's signed header and in its body's associated data, and
    the log is looked up by topic: moving the code must not change it. Old topics resolve to
    the classes as soon as their module is imported.
    """
    def pin(aggregate: type[T]) -> type[T]:
        events = [v for v in vars(aggregate).values()
                  if isinstance(v, type) and issubclass(v, Aggregate.Event)]
        for cls in (aggregate, *events):
            topic = f"{module}:{cls.__qualname__}"
            cls.TOPIC = topic  # type: ignore[attr-defined]  # eventsourcing's topic override
            register_topic(topic, cls)
        return aggregate
    return pin


@dataclass(frozen=True)
class Actor:
    """Who signs an event: a user of a state, holding the state's current key pair."""

    state: str
    user: str
    keys: StateKeyPair


def _clear(value: Any) -> Any:
    """Turns a field value into the plain JSON shape the header is signed in."""
    if type(value) in PLAIN_TYPES:
        return value
    if isinstance(value, str):
        return str(value)  # a StrEnum member signs as its plain string
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_clear(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clear(v) for k, v in value.items()}
    return value


# The signature and hash of the event this thread signed last: the event's `mutate`, which
# follows at once, takes its hash from there instead of encoding the header again.
_just_signed = threading.local()


@cache
def _field_names(event_class: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(event_class))


@cache
def _asserted(event_class: type) -> tuple[str, ...]:
    return tuple(n for n in _field_names(event_class) if n not in _NOT_IN_HEADER)


def build_header(
    event_class: type, aggregate_id: UUID, version: int, timestamp: datetime,
    clear_fields: dict[str, Any],
) -> dict[str, Any]:
    """The canonical clear header of an event, as signed and hashed."""
    header = {k: _clear(v) for k, v in clear_fields.items() if k not in _NOT_IN_HEADER}
    header.update(
        type=get_topic(event_class),
        aggregate=str(aggregate_id),
        version=version,
        timestamp=timestamp.isoformat(),
    )
    return header


class SignedAggregate(Aggregate):
    """An aggregate whose events are all signed by an actor and chained by hash.

    ``chain_head`` (the hash of the last event) is set by every event's ``mutate``.
    """

    class Event(Aggregate.Event):
        actor_state: str
        actor_user: str
        signing_key_version: int
        prev_hash: str
        body: str
        signature: str

        def header(self) -> dict[str, Any]:
            header = self.clear_fields()  # `build_header`'s, in one pass over the fields
            header.update(type=get_topic(type(self)), aggregate=str(self.originator_id),
                          version=self.originator_version,
                          timestamp=self.timestamp.isoformat())
            return header

        def clear_fields(self) -> dict[str, Any]:
            """The header's fields the actor asserts (not the type, aggregate, version and
            timestamp it adds), as signed: what a history shows, without the header."""
            return {name: _clear(getattr(self, name)) for name in _asserted(type(self))}

        def body_bytes(self) -> bytes:
            return base64.b64decode(self.body)

        def hash(self) -> str:
            return chained_hash(canonical_json(self.header()), sha256_hex(self.body_bytes()),
                                bytes.fromhex(self.signature).hex())  # lowercase, as hashed

        def mutate(self, aggregate: Any) -> Any:
            aggregate = self.mutate_unchained(aggregate)
            signed = getattr(_just_signed, "event", None)  # (signature, hash) of an append
            aggregate.chain_head = signed[1] if signed and signed[0] == self.signature \
                else self.hash()
            return aggregate

        def mutate_unchained(self, aggregate: Any) -> Any:
            """``mutate`` without setting ``chain_head`` (`fold` sets it once, at the end)."""
            return super().mutate(aggregate)

    @classmethod
    def _signed_kwargs(
        cls, event_class: type, aggregate_id: UUID, version: int, actor: Actor,
        prev_hash: str, body: bytes, clear_fields: dict[str, Any],
    ) -> dict[str, Any]:
        timestamp = event_class.create_timestamp()  # type: ignore[attr-defined]
        kwargs = dict(
            clear_fields,
            actor_state=actor.state,
            actor_user=actor.user,
            signing_key_version=actor.keys.version,
            prev_hash=prev_hash,
        )
        header = build_header(event_class, aggregate_id, version, timestamp, kwargs)
        signature, chained = sign_and_hash_event(actor.keys, header, body)
        _just_signed.event = (signature.hex(), chained)  # for `mutate`, called next
        return dict(kwargs, timestamp=timestamp, body=base64.b64encode(body).decode(),
                    signature=signature.hex())

    @classmethod
    def _start(cls, event_class: type, aggregate_id: UUID, actor: Actor, body: bytes = b"",
               **clear_fields: Any) -> Any:
        """Creates the aggregate with a first, signed event."""
        kwargs = cls._signed_kwargs(event_class, aggregate_id, cls.INITIAL_VERSION, actor,
                                    GENESIS_HASH, body, clear_fields)
        return cls._create(event_class, id=aggregate_id, **kwargs)

    def _record(self, event_class: type, actor: Actor, body: bytes = b"",
                **clear_fields: Any) -> None:
        """Appends a signed event that follows the current chain head."""
        kwargs = self._signed_kwargs(event_class, self.id, self.version + 1, actor,
                                     self.chain_head, body, clear_fields)
        self.trigger_event(event_class, **kwargs)


def event_topics(kind: type) -> list[str]:
    """The topics under which the events an aggregate class defines are stored."""
    return [get_topic(v) for v in vars(kind).values()
            if isinstance(v, type) and issubclass(v, Aggregate.Event)]


def fold(events: list[Any]) -> Any:
    """The aggregate ``events`` make (None for none). Only the last event is hashed, for the
    chain head: the hash of each event costs a canonical JSON of its header."""
    aggregate = None
    for event in events:
        aggregate = event.mutate_unchained(aggregate)
    if aggregate is not None:
        aggregate.chain_head = events[-1].hash()
    return aggregate


class SetAsSortedList(Transcoding):
    """Aggregates keep some facts as sets; snapshots store them as sorted lists."""

    type = set
    name = "set"

    def encode(self, obj: set[Any]) -> list[Any]:
        return sorted(obj)

    def decode(self, data: list[Any]) -> set[Any]:
        return set(data)


class Ledger(Application[UUID]):
    """The one event store of the exchange: directory, cases, meetings and traces share its log.

    ``snapshot_intervals`` (aggregate class -> every how many events) turns on snapshots,
    which keep loading a long-lived aggregate, and time travel to any version of it, flat.
    """

    name = "divex"
    is_snapshotting_enabled = True

    def __init__(self, env: dict[str, str] | None = None,
                 snapshot_intervals: dict[type, int] | None = None) -> None:
        super().__init__(env)
        self.snapshotting_intervals = snapshot_intervals or {}  # type: ignore[misc]
        # Set after every commit of this process's events, for the background follower
        # (`Exchange.keep_following`), which then brings the read models up at once.
        self.written = threading.Event()
        self.recent = EventCache(self.events_after, self.events_of)

    def _notify(self, recordings: list[Any]) -> None:
        super()._notify(recordings)
        self.written.set()

    def create_indexes(self) -> None:
        """An index on (topic, id), so `ids_created_by` reads the directory, meetings and
        trace requests without scanning a log of a million case events. Part of preparing
        the store (`infra.wiring.prepare_store`); processes preparing it together may race
        to create it, and the loser finds it made."""
        table = self.recorder.events_record_cls.__table__.name  # type: ignore[attr-defined]
        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        try:
            with engine.begin() as db:
                db.execute(text(f"CREATE INDEX IF NOT EXISTS {table}_topic ON {table} "
                                "(topic, id)"))
        except DBAPIError:
            if not inspect(engine).has_index(table, f"{table}_topic"):
                raise

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(SetAsSortedList())

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A database transaction in which events and keystore rows commit or roll back together.

        A stale write surfaces as `Conflict`, with nothing stored.
        """
        try:
            with self.recorder.transaction(commit=True) as session:  # type: ignore[attr-defined]
                yield session
            self.written.set()
        except (IntegrityError, SQLIntegrityError) as error:
            raise Conflict(
                "Someone else changed this record at the same time; reload and try again."
            ) from error

    def get_as(self, kind: type[T], aggregate_id: Any, missing: NotFound,
               version: int | None = None) -> T:
        """The aggregate of that kind (as it was at ``version``, if given), or the refusal
        ``missing`` (also for a bad id)."""
        try:
            found = self.repository.get(UUID(str(aggregate_id)), version=version)
        except (AggregateNotFoundError, ValueError):
            raise missing from None
        if not isinstance(found, kind):
            raise missing
        return found

    def get_with_events(self, kind: type[T], aggregate_id: Any, missing: NotFound,
                        version: int | None = None) -> tuple[T, list[Any]]:
        """`get_as` and the aggregate's events up to ``version``, from one read of the log
        (of its tail, for a long aggregate read lately: `EventCache`): for the views that
        open every event anyway (a snapshot would save the fold, not that read)."""
        try:
            events = self.recent.events(UUID(str(aggregate_id)))
        except ValueError:
            raise missing from None
        if version is not None:
            events = [e for e in events if e.originator_version <= version]
        found = fold(events)
        if not isinstance(found, kind):
            raise missing
        return found, events

    def get_many_with_events(self, kind: type[T], aggregate_ids: Iterable[Any]
                             ) -> dict[UUID, tuple[T, list[Any]]]:
        """`get_with_events` of several aggregates (a page of search results, a batch to
        index) from one read of the log; those not of that kind are left out."""
        found = {}
        for aggregate_id, events in self.recent.events_of(
                [UUID(str(i)) for i in aggregate_ids]).items():
            aggregate = fold(events)
            if isinstance(aggregate, kind):
                found[aggregate_id] = (aggregate, events)
        return found

    def events_after(self, aggregate_id: UUID, after: int | None) -> list[Any]:
        """The aggregate's stored events after version ``after`` (all if None), in order."""
        return self.events_of([aggregate_id], after).get(aggregate_id, [])

    def events_of(self, aggregate_ids: Sequence[UUID], after: int | None = None
                  ) -> dict[UUID, list[Any]]:
        """The stored events of each aggregate (after version ``after``), in version order,
        read with one Core query: the ORM object built per row cost as much as the read."""
        table = self.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        query = select(table.c.originator_id, table.c.originator_version, table.c.topic,
                       table.c.state).where(table.c.originator_id.in_(list(aggregate_ids)))
        if after is not None:
            query = query.where(table.c.originator_version > after)
        with self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            rows = session.execute(query.order_by(table.c.originator_id,
                                                  table.c.originator_version)).all()
        found: dict[UUID, list[Any]] = {}
        for r in rows:
            stored = StoredEvent(originator_id=r.originator_id,
                                 originator_version=r.originator_version, topic=r.topic,
                                 state=bytes(r.state) if isinstance(r.state, memoryview)
                                 else r.state)
            found.setdefault(UUID(str(r.originator_id)), []).append(
                self.mapper.to_domain_event(stored))
        return found

    def last_id(self) -> int | None:
        """The notification id of the newest stored event (None: the log is empty). The
        recorder's ``max_notification_id`` loads that whole event as an ORM object; the
        background follower of each server process asks 20 times a second, and every page
        once."""
        table = self.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        with self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            return session.execute(select(func.max(table.c.id))).scalar()

    def touched(self, after: int, stop: int) -> set[str]:
        """The ids (strings) of the aggregates with an event stored after notification
        ``after`` up to ``stop``: ids only, not the events."""
        table = self.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        with self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            return {str(i) for i in session.execute(select(table.c.originator_id).where(
                table.c.id > after, table.c.id <= stop)).scalars()}

    def versions_of(self, aggregate_ids: Iterable[Any]) -> dict[str, int]:
        """The stored version of each aggregate that has events, by id (a string), from one
        query along the events' primary key."""
        table = self.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        ids = [UUID(str(i)) for i in aggregate_ids]
        if not ids:
            return {}
        with self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            rows = session.execute(select(table.c.originator_id,
                                          func.max(table.c.originator_version))
                                   .where(table.c.originator_id.in_(ids))
                                   .group_by(table.c.originator_id)).all()
        return {str(aggregate_id): int(version) for aggregate_id, version in rows}

    def notifications(self, after: int | None, limit: int | None, stop: int | None = None,
                      topics: Sequence[str] = ()) -> list[Notification]:
        """The recorder's ``select_notifications`` after notification ``after`` (up to
        ``stop``; all of them if ``limit`` is None), read with a Core query: the ORM object
        it builds for each row was a third of the time it took to read the log (rebuild,
        verify)."""
        table = self.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        query = select(table.c.id, table.c.originator_id, table.c.originator_version,
                       table.c.topic, table.c.state)
        if after is not None:
            query = query.where(table.c.id > after)
        if stop is not None:
            query = query.where(table.c.id <= stop)
        if topics:
            query = query.where(table.c.topic.in_(topics))
        with self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            rows = session.execute(query.order_by(table.c.id).limit(limit)).all()
        return [Notification(id=r.id, originator_id=r.originator_id,
                             originator_version=r.originator_version, topic=r.topic,
                             state=bytes(r.state) if isinstance(r.state, memoryview) else r.state)
                for r in rows]

    def changes_after(self, topics: Sequence[str], after: int = 0) -> tuple[bool, int]:
        """Whether an event of those topics was stored after ``after``, and the position
        looked up to (the newest event read; ``after`` if none). Past `LOOKED_AFTER` events,
        it answers yes, up to the end of the log: the caller reads again, whatever they
        were.

        It reads the ids and topics of the events after ``after`` along the primary key, in
        order, with a limit: no plan of that statement reads more, with or without
        statistics. A ``max(id)`` over the topic index was planned, on a log PostgreSQL had
        no statistics of (autovacuum off; seen during a 100,000-case bulk load), as a
        parallel scan with JIT: 111 ms on every request. A probe per topic cost 5-8 ms to
        plan. Ids commit in order (the recorder locks the table to insert), so the events
        up to the position returned have all been read."""
        table = self.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        wanted = set(topics)
        with self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            recent = session.execute(select(table.c.id, table.c.topic).where(
                table.c.id > after).order_by(table.c.id).limit(LOOKED_AFTER)).all()
        if len(recent) == LOOKED_AFTER:
            return True, int(self.last_id() or recent[-1].id)
        return (any(row.topic in wanted for row in recent),
                int(recent[-1].id) if recent else after)

    @staticmethod
    def in_transaction() -> bool:
        """Whether this thread is inside a transaction of the store, which may hold events
        not committed yet (eventsourcing-sqlalchemy keeps the open one in a context
        variable)."""
        return transactions.get(None) is not None

    def scan(self, topics: Sequence[str] = (), batch: int = 500) -> Iterator[Notification]:
        """Every stored notification (of ``topics``, if given) in log order, a query per
        ``batch``. The events of some topics (the directory's, meetings') are few: read
        in one query, through the topic index. Paged, PostgreSQL without fresh statistics
        walked the whole log in id order to fill a page it could never fill (seen at
        400,000 events: 150 ms a call and growing, with autovacuum off)."""
        if topics:
            yield from self.notifications(None, None, topics=topics)
            return
        start = None
        while True:
            page = self.notifications(start, batch, topics=topics)
            yield from page
            if len(page) < batch:
                return
            start = page[-1].id

    def ids_created_by(self, event_class: type) -> list[UUID]:
        """Ids of the aggregates started by ``event_class``, in the order they were stored.

        A scan of the log by topic: fine for the directory and meetings (hundreds), not for
        cases, which are listed from the case index.
        """
        return [n.originator_id for n in self.scan([get_topic(event_class)])]

    def all_of(self, kind: type[T]) -> list[T]:
        """Every aggregate of that kind, in the order they were started, from one scan of
        the log by the topics of its events, instead of a read per aggregate: the
        directory's states and users, the meetings."""
        topics = event_topics(kind)
        events: dict[UUID, list[Any]] = {}
        for notification in self.scan(topics):
            events.setdefault(notification.originator_id, []).append(
                self.mapper.to_domain_event(notification))
        return [found for found in map(fold, events.values()) if isinstance(found, kind)]

    def save_all(self, *aggregates: Aggregate) -> None:
        """Saves aggregates in one transaction; a stale version raises `Conflict`."""
        with self.transaction():
            self.save(*aggregates)
