"""The in-process follower: feeds a projection the notifications it has not yet seen.

On SQLite there is no subscription (DESIGN §4), so the follower reads `select_notifications`
from the projection's tracking position. Each event and its tracking record commit together,
so running it twice, or from two processes at once, applies every event exactly once.
"""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.projection import Projection
from sqlalchemy.exc import IntegrityError as SQLIntegrityError

from cases.ledger import Ledger

BATCH = 500


def catch_up(ledger: Ledger, projection: Projection,
             progress: Callable[[int], None] | None = None) -> int:
    """Applies every new event to the projection; returns how many were applied.

    ``progress`` is told how many notifications each batch covered.
    """
    applied = 0
    while True:
        position = projection.view.max_tracking_id(ledger.name) or 0
        notifications = ledger.recorder.select_notifications(
            position, limit=BATCH, inclusive_of_start=False)
        for notification in notifications:
            event = ledger.mapper.to_domain_event(notification)
            try:
                projection.process_event(event, Tracking(ledger.name, notification.id))
            except (IntegrityError, SQLIntegrityError):
                return applied  # another process applied it first; it will carry on
            applied += 1
        if progress:
            progress(len(notifications))
        if len(notifications) < BATCH:
            return applied
