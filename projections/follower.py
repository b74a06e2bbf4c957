"""Feeding projections: from the log in-process, or event by event from another source.

On SQLite there is no subscription (DESIGN §4), so the follower reads `select_notifications`
from the projection's high-water mark. Each event and its tracking records commit together,
and an event commits only as the next version of its aggregate (`read_model`), so running
the follower twice, or from two processes at once, applies every event exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.projection import Projection
from sqlalchemy.exc import IntegrityError as SQLIntegrityError

from cases.ledger import Ledger

from .read_model import EventTracking

BATCH = 500


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # applied before: absorbed
    EARLY = "early"  # an earlier version of its aggregate is missing: not applied


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


def catch_up(ledger: Ledger, projection: Projection,
             progress: Callable[[int], None] | None = None) -> int:
    """Applies every new event of the log to the projection; returns how many were applied.

    ``progress`` is told how many notifications each batch covered.
    """
    applied, position = 0, projection.view.max_tracking_id(ledger.name) or 0
    while True:
        notifications = ledger.recorder.select_notifications(
            position, limit=BATCH, inclusive_of_start=False)
        for notification in notifications:
            event = ledger.mapper.to_domain_event(notification)
            outcome = apply_alone(projection, event, tracking_of(ledger, notification))
            if outcome is Outcome.EARLY:
                raise ProjectionGap(projection.name, notification.id)
            applied += outcome is Outcome.APPLIED  # a duplicate: another process was first
        if progress:
            progress(len(notifications))
        if len(notifications) < BATCH:
            return applied
        position = notifications[-1].id
