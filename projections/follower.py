"""Feeding projections: from the log in-process, or batch by batch from another source.

On SQLite there is no subscription (DESIGN §4), so the follower reads `select_notifications`
from the projection's high-water mark. Each batch of events commits in one transaction with
its tracking records, and an event applies only as the next version of its aggregate
(`read_model`), so running the follower twice, or from two processes at once, applies every
event exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.projection import Projection
from sqlalchemy.exc import IntegrityError as SQLIntegrityError

from cases.ledger import Ledger

from .read_model import EventTracking

BATCH = 500

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


def tracking_of(ledger: Ledger, notification: Notification,
                in_log_order: bool = True) -> EventTracking:
    return EventTracking(ledger.name, notification.id, notification.originator_id,
                         notification.originator_version, in_log_order)


def apply(projection: Projection, event: DomainEventProtocol, tracking: EventTracking,
          applied: int) -> Outcome:
    """Applies one event if it is the next version of its aggregate, given the version the
    projection has ``applied``; IntegrityError if another process applied it meanwhile."""
    if tracking.version <= applied:
        return Outcome.DUPLICATE
    if tracking.version > applied + 1:
        return Outcome.EARLY
    projection.process_event(event, tracking)
    return Outcome.APPLIED


def apply_alone(projection: Projection, event: DomainEventProtocol,
                tracking: EventTracking) -> Outcome:
    """`apply` in a transaction of its own; a race lost to another process is a duplicate."""
    view = projection.view
    try:
        return apply(projection, event, tracking, view.applied_version(tracking.aggregate_id))
    except (IntegrityError, SQLIntegrityError):
        if view.applied_version(tracking.aggregate_id) < tracking.version:
            raise
        return Outcome.DUPLICATE


def apply_batch(ledger: Ledger, projections: Sequence[Projection],
                events: Sequence[Tracked]) -> BatchResult:
    """Applies the events to each projection in one transaction, reading the versions
    applied once per projection; if the batch raced another process, applies it again event
    by event."""
    if not events:
        return BatchResult()
    datastore: Any = ledger.recorder.datastore  # type: ignore[attr-defined]
    try:
        with datastore.transaction(commit=True):
            return _apply_in_order(projections, events)
    except (IntegrityError, SQLIntegrityError):
        result = BatchResult()
        for tracking, event in events:
            for projection in projections:
                outcome = apply_alone(projection, event, tracking)
                result.outcomes[outcome] += 1
                if outcome is Outcome.EARLY:
                    result.early.append((projection.name, tracking))
        return result


def _apply_in_order(projections: Sequence[Projection], events: Sequence[Tracked]) -> BatchResult:
    result = BatchResult()
    for projection in projections:
        applied = projection.view.applied_versions({t.aggregate_id for t, _ in events})
        for tracking, event in events:
            outcome = apply(projection, event, tracking, applied.get(tracking.aggregate_id, 0))
            result.outcomes[outcome] += 1
            if outcome is Outcome.APPLIED:
                applied[tracking.aggregate_id] = tracking.version
            elif outcome is Outcome.EARLY:
                result.early.append((projection.name, tracking))
    return result


def catch_up(ledger: Ledger, projection: Projection,
             progress: Callable[[int], None] | None = None) -> int:
    """Applies every new event of the log to the projection; returns how many were applied.

    ``progress`` is told how many notifications each batch covered.
    """
    applied, position = 0, projection.view.max_tracking_id(ledger.name) or 0
    while True:
        notifications = ledger.recorder.select_notifications(
            position, limit=BATCH, inclusive_of_start=False)
        result = apply_batch(ledger, [projection], [
            (tracking_of(ledger, n), ledger.mapper.to_domain_event(n)) for n in notifications])
        if result.early:
            raise ProjectionGap(projection.name, result.early[0][1].notification_id)
        applied += result.outcomes[Outcome.APPLIED]
        if progress:
            progress(len(notifications))
        if len(notifications) < BATCH:
            return applied
        position = notifications[-1].id
