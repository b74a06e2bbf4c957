"""Feeding projections: from the log in-process, or batch by batch from another source.

On SQLite there is no subscription (DESIGN §4), so the follower reads the notification log
(`Ledger.notifications`) from the projection's high-water mark. Each batch of events commits
in one transaction with its tracking records, and an event applies only as the next version
of its aggregate (`read_model`), so running the follower twice, or from two processes at
once, applies every event exactly once.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.projection import Projection
from sqlalchemy.exc import IntegrityError as SQLIntegrityError

from cases.kernel.ledger import Ledger

from .read_model import EventTracking, Move, applied_versions_of, record_positions_of

BATCH = 500
# A rebuild's batches: a transaction (and an fsync on SQLite) per 2,000 events rather than 500
# made it ~15% quicker (20,000 events, SQLite; 5,000 no quicker). A live catch-up keeps
# `BATCH`, as a batch holds SQLite's one writer lock while it is written.
REBUILD_BATCH = 2000

Tracked = tuple[EventTracking, DomainEventProtocol]


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # applied before: absorbed
    EARLY = "early"  # an earlier version of its aggregate is missing: not applied


@dataclass
class BatchResult:
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    early: list[tuple[str, EventTracking]] = field(default_factory=list)  # (projection, event)


class ProjectionGap(RuntimeError):
    """The log holds an event whose earlier versions the read model lacks: rebuild it."""

    def __init__(self, projection: str, notification_id: int) -> None:
        super().__init__(f"read model {projection} lacks events before notification "
                         f"{notification_id}; run `divex projections rebuild`")


def tracking_of(ledger: Ledger, notification: Notification) -> EventTracking:
    return EventTracking(ledger.name, notification.id, notification.originator_id,
                         notification.originator_version)


def apply(projection: Projection, event: DomainEventProtocol, tracking: EventTracking,
          applied: int) -> Outcome:
    """Applies one event to the view if it is the next version of its aggregate, given the
    version the projection has ``applied``; the caller records the position."""
    if tracking.version <= applied:
        return Outcome.DUPLICATE
    if tracking.version > applied + 1:
        return Outcome.EARLY
    handler = handler_of(type(projection), type(event))
    if handler is not None:
        handler(projection, event, tracking)
    return Outcome.APPLIED


@cache
def handler_of(projection_class: type, event_class: type) -> Callable | None:
    """The projection's handler of that kind of event, or None where it has none of its own:
    every read model's default only moves the position, which the follower records anyway.
    Most read models ignore most events, and dispatching each one cost more than the rest."""
    method = inspect.getattr_static(projection_class, "process_event")
    dispatcher = getattr(method, "dispatcher", None)
    if dispatcher is None:
        return projection_class.process_event  # type: ignore[no-any-return]
    found = dispatcher.dispatch(event_class)
    return None if found is dispatcher.dispatch(object) else found


def apply_alone(ledger: Ledger, projection: Projection, event: DomainEventProtocol,
                tracking: EventTracking) -> Outcome:
    """`apply` with its position in a transaction of its own; a race lost to another
    process is a duplicate."""
    view = projection.view
    try:
        with _datastore(ledger).transaction(commit=True):
            outcome = apply(projection, event, tracking,
                            view.applied_version(tracking.aggregate_id))
            if outcome is Outcome.APPLIED:
                view.record_positions({tracking.aggregate_id: Move(
                    tracking.version - 1, tracking.version, tracking.notification_id)})
            return outcome
    except (IntegrityError, SQLIntegrityError):
        if view.applied_version(tracking.aggregate_id) < tracking.version:
            raise
        return Outcome.DUPLICATE


def apply_batch(ledger: Ledger, projections: Sequence[Projection], events: Sequence[Tracked],
                high_water: int | None = None) -> BatchResult:
    """Applies the events to each projection in one transaction, with their positions and,
    for a source in log order, the ``high_water`` notification id the batch reaches; if the
    batch raced another process, applies it again event by event."""
    if not events or not projections:
        return BatchResult()
    try:
        with _datastore(ledger).transaction(commit=True):
            result = BatchResult()
            views = [projection.view for projection in projections]
            applied = applied_versions_of(views, {t.aggregate_id for t, _ in events})
            record_positions_of([
                (projection.view, _apply_in_order(projection, events, versions, result))
                for projection, versions in zip(projections, applied, strict=True)],
                high_water, ledger.name)
            return result
    except (IntegrityError, SQLIntegrityError):
        result = BatchResult()
        for tracking, event in events:
            for projection in projections:
                outcome = apply_alone(ledger, projection, event, tracking)
                result.outcomes[outcome] += 1
                if outcome is Outcome.EARLY:
                    result.early.append((projection.name, tracking))
        if high_water is not None:
            for projection in projections:
                with _datastore(ledger).transaction(commit=True):
                    projection.view.record_positions({}, high_water, ledger.name)
        return result


def _apply_in_order(projection: Projection, events: Sequence[Tracked],
                    applied: Mapping[UUID, int], result: BatchResult) -> dict[UUID, Move]:
    """Applies the batch to one projection, given the versions it had ``applied``; returns
    each aggregate's move, recorded once for the batch. `apply`, inlined: a rebuild runs this
    for every event and read model, and hashing UUIDs and counting outcomes one at a time
    was a tenth of it; aggregates are told apart here by their ids' integers."""
    versions = {aggregate.int: version for aggregate, version in applied.items()}
    moves: dict[int, tuple[UUID, int, int, int]] = {}  # id, version before, after, position
    kind, duplicates, early = type(projection), 0, 0
    for tracking, event in events:
        aggregate = tracking.aggregate_id
        key, version = aggregate.int, tracking.version
        before = versions.get(key, 0)
        if version <= before:
            duplicates += 1
            continue
        if version > before + 1:
            result.early.append((projection.name, tracking))
            early += 1
            continue
        handler = handler_of(kind, type(event))
        if handler is not None:
            handler(projection, event, tracking)
        first = moves.get(key)
        moves[key] = (aggregate, first[1] if first else before, version,
                      tracking.notification_id)
        versions[key] = version
    result.outcomes.update({Outcome.APPLIED: len(events) - duplicates - early,
                            Outcome.DUPLICATE: duplicates, Outcome.EARLY: early})
    return {aggregate: Move(before, after, position)
            for aggregate, before, after, position in moves.values()}


def catch_up(ledger: Ledger, projections: Sequence[Projection],
             progress: Callable[[int], None] | None = None, since: int | None = None,
             batch: int | None = None) -> int:
    """Applies every new event of the log to the projections; returns how many applications
    there were. Each event is read and decoded once for all of them, from the lowest
    high-water mark (``since``, when the caller brought them all there itself: one query
    per projection less); a projection that is further on absorbs what it has as duplicates.

    ``progress`` is told how many notifications each batch covered.
    """
    applied, batch = 0, batch or BATCH
    position = since if since is not None else min(
        (p.view.max_tracking_id(ledger.name) or 0 for p in projections), default=0)
    while True:
        notifications = ledger.notifications(position, batch)
        if not notifications:
            return applied
        result = apply_batch(ledger, projections, [
            (tracking_of(ledger, n), ledger.mapper.to_domain_event(n)) for n in notifications],
            high_water=notifications[-1].id)
        if result.early:
            name, tracking = result.early[0]
            raise ProjectionGap(name, tracking.notification_id)
        applied += result.outcomes[Outcome.APPLIED]
        if progress:
            progress(len(notifications))
        if len(notifications) < batch:
            return applied
        position = notifications[-1].id


def rebuild(ledger: Ledger, projections: Sequence[Projection],
            progress: Callable[[int], None] | None = None) -> int:
    """Drops the projections' read models and replays the whole log into them, reading and
    decoding each event once for all of them; returns how many applications there were."""
    for projection in projections:
        projection.view.drop()
        projection.view.create_table()
    return catch_up(ledger, projections, progress, batch=REBUILD_BATCH)


def _datastore(ledger: Ledger) -> Any:
    return ledger.recorder.datastore  # type: ignore[attr-defined]
