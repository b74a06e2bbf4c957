"""The mail outbox: inbox items waiting to be turned into mails, written in the transaction that
stores the item, so an item is never stored without its mail being owed, nor the reverse.

Kept through `divex projections rebuild` (like read markers): a replayed item finds its row
and is not mailed again. Only items at most `FRESH` old are queued, so replaying an old log (a
rebuild, a first start on an existing store, a worker far behind) mails nothing stale.
The mailer (`infra.mailer`) expands each row into the mails of the users concerned.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, MetaData, String, Table, insert, select

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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
