"""The mail outbox: inbox items waiting to be turned into mails, written in the transaction that
stores the item, so an item is never stored without its mail being owed, nor the reverse;
and the mails themselves, one row each, from expansion to sending.

Kept through `divex projections rebuild` (like read markers): a replayed item finds its row
and is not mailed again. Only items at most `FRESH` old are queued, so replaying an old log (a
rebuild, a first start on an existing store, a worker far behind) mails nothing stale.
The mailer (`infra.mailer`) expands each item into the mails of the users concerned
(`mail_messages`, or a day's digest) and sends them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)

FRESH = timedelta(days=2)
NEW, EXPANDED = "new", "expanded"

metadata = MetaData()

mail_items = Table(
    "mail_items",
    metadata,
    Column("item_id", String(36), primary_key=True),
    Column("state", String(3), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("case_id", String(36), nullable=False),
    Column("case_gated", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, index=True),
)

# One row per mail, keyed by its Message-ID (derived from what it is about, so the same mail
# is never queued twice). Status: pending -> sending -> sent; or failed after the last retry;
# or uncertain (see `infra.mailer`). The body holds no case content; it is cleared once sent
# (a confirmation mail's link is a secret until then).
PENDING, SENDING, SENT, FAILED, UNCERTAIN = "pending", "sending", "sent", "failed", "uncertain"
mail_messages = Table(
    "mail_messages",
    metadata,
    Column("message_id", String(64), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("address", String(254), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("last_error", String(200), nullable=False),
    Index("mail_messages_due", "status", "next_attempt"),
)

# Items a user gets in a daily digest, until the day's digest is composed.
mail_digest_entries = Table(
    "mail_digest_entries",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("item_id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("day", Date, nullable=False),
)

COLUMNS = ("item_id", "state", "user_id", "kind", "case_id", "case_gated", "at")


def queue(session: Any, items: Iterable[dict[str, Any]], now: datetime | None = None) -> int:
    """Queues the fresh items not queued before; returns how many were."""
    now = now or datetime.now(UTC)
    fresh = [{c: item[c] for c in COLUMNS} for item in items
             if now - _aware(item["at"]) <= FRESH]
    if not fresh:
        return 0
    known = set(session.execute(select(mail_items.c.item_id).where(
        mail_items.c.item_id.in_([i["item_id"] for i in fresh]))).scalars())
    rows = [dict(i, status=NEW) for i in fresh if i["item_id"] not in known]
    if rows:
        session.execute(insert(mail_items), rows)
    return len(rows)


def queue_message(session: Any, message_id: str, user_id: str, address: str, kind: str,
                  subject: str, body: str, now: datetime) -> bool:
    """Queues one mail unless a mail with its id was queued before; returns whether it was."""
    if session.execute(select(mail_messages.c.message_id).where(
            mail_messages.c.message_id == message_id)).first() is not None:
        return False
    session.execute(insert(mail_messages).values(
        message_id=message_id, user_id=user_id, address=address, kind=kind,
        subject=subject[:200], body=body, status=PENDING, attempts=0, next_attempt=now,
        last_error=""))
    return True


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
