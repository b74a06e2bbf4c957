"""How a stored event travels on Kafka: exactly the stored record, nothing decrypted.

Key: the aggregate id, so every event of a record lands in one partition, in order.
Value: JSON with the notification id, the aggregate id and version, the event's topic and
the stored state (base64; the clear header and the sealed body, as signed).
"""

from __future__ import annotations

import base64
import json
from uuid import UUID

from eventsourcing.persistence import Notification


def encode(notification: Notification) -> tuple[bytes, bytes]:
    """The message key and value of a stored event."""
    value = {"notification_id": notification.id,
             "originator_id": str(notification.originator_id),
             "originator_version": notification.originator_version,
             "topic": notification.topic,
             "state": base64.b64encode(notification.state).decode()}
    return str(notification.originator_id).encode(), json.dumps(value).encode()


def decode(value: bytes) -> Notification:
    """The stored event a message carries; ValueError if it is not one."""
    try:
        fields = json.loads(value)
        return Notification(id=int(fields["notification_id"]),
                            originator_id=UUID(fields["originator_id"]),
                            originator_version=int(fields["originator_version"]),
                            topic=str(fields["topic"]),
                            state=base64.b64decode(fields["state"], validate=True))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a divex event: {error}") from None
