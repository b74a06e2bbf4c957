"""Users' e-mail addresses and what they want mailed: set by each user for themself, an address
counting only once confirmed through a link sent to it.

Kept in tables beside the log, not in it: an address is personal data its owner changes or
removes, and the log is append-only. The link's secret is stored only as its SHA-256.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, delete, insert, select

from cases.kernel.errors import InvalidInput, NotFound
from cases.kernel.viewer import Viewer

from .kinds import KINDS

IMMEDIATELY, DAILY, NEVER = "immediately", "daily", "never"
MODES = (IMMEDIATELY, DAILY, NEVER)
DEFAULT_MODE = IMMEDIATELY
CONFIRM_WITHIN = timedelta(days=2)
# Enough to refuse what no mail server takes; the link then proves the mailbox exists.
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+$")

metadata = MetaData()

mail_addresses = Table(
    "mail_addresses",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("address", String(254), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("token_sha256", String(64), nullable=False),  # "" once confirmed
    Column("token_expires", DateTime(timezone=True)),
)

mail_preferences = Table(
    "mail_preferences",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("mode", String(16), nullable=False),
)


@dataclass(frozen=True)
class MailAddress:
    address: str
    confirmed: bool


@dataclass(frozen=True)
class Recipient:
    """A user with a confirmed address, and how they want each kind mailed."""

    user_id: str
    address: str
    modes: Mapping[str, str]

    def mode(self, kind: str) -> str:
        return self.modes.get(kind, DEFAULT_MODE)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class MailAddresses:
    def __init__(self, engine: Engine,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.clock = clock

    def create_tables(self) -> None:
        metadata.create_all(self.engine)

    def request(self, viewer: Viewer, address: str) -> str:
        """Records the viewer's new address, unconfirmed: it replaces any earlier one, and
        nothing is mailed to it until it is confirmed, so a typo sends nothing to a stranger.
        Returns the secret of the link that confirms it (mailed to it, never shown)."""
        address = str(address or "").strip()
        if not address:
            raise InvalidInput("This field is required.", field="address")
        if len(address) > 254 or not _ADDRESS.match(address):
            raise InvalidInput("Enter an e-mail address such as name@example.org.",
                               field="address")
        token = secrets.token_urlsafe(32)
        row = dict(address=address, confirmed_at=None, token_sha256=_digest(token),
                   token_expires=self.clock() + CONFIRM_WITHIN)
        with self.engine.begin() as db:
            db.execute(delete(mail_addresses).where(mail_addresses.c.user_id == viewer.user_id))
            db.execute(insert(mail_addresses).values(user_id=viewer.user_id, **row))
        return token

    def confirm(self, token: str) -> str:
        """Confirms the address the link was sent to; returns it."""
        a = mail_addresses.c
        now = self.clock()
        with self.engine.begin() as db:
            row = db.execute(select(mail_addresses).where(
                a.token_sha256 == _digest(str(token or "")), a.token_sha256 != "")).first()
            if row is None or _aware(row.token_expires) < now:
                raise NotFound("This confirmation link is not valid or has expired; set your "
                               "address again to get a new one.")
            db.execute(mail_addresses.update().where(a.user_id == row.user_id).values(
                confirmed_at=now, token_sha256="", token_expires=None))
            return str(row.address)

    def remove(self, viewer: Viewer) -> None:
        with self.engine.begin() as db:
            db.execute(delete(mail_addresses).where(mail_addresses.c.user_id == viewer.user_id))

    def address_of(self, viewer: Viewer) -> MailAddress | None:
        with self.engine.connect() as db:
            row = db.execute(select(mail_addresses).where(
                mail_addresses.c.user_id == viewer.user_id)).first()
        return MailAddress(row.address, row.confirmed_at is not None) if row else None

    def modes_of(self, viewer: Viewer) -> dict[str, str]:
        """How the viewer wants each kind mailed (the default where they chose nothing)."""
        return self.recipient_modes([viewer.user_id]).get(viewer.user_id, {})

    def set_modes(self, viewer: Viewer, modes: Mapping[str, str]) -> None:
        """Sets how each named kind is mailed; an unknown kind or mode is refused whole."""
        for kind, mode in modes.items():
            if kind not in KINDS:
                raise InvalidInput("Unknown kind of item: %(kind)s.", field="kind",
                                   kind=str(kind)[:40])
            if mode not in MODES:
                raise InvalidInput("Choose immediately, daily or never.", field=kind)
        with self.engine.begin() as db:
            p = mail_preferences.c
            db.execute(delete(mail_preferences).where(p.user_id == viewer.user_id,
                                                      p.kind.in_(list(modes))))
            if modes:
                db.execute(insert(mail_preferences), [
                    {"user_id": viewer.user_id, "kind": k, "mode": m} for k, m in modes.items()])

    def recipient_modes(self, user_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        p = mail_preferences.c
        found: dict[str, dict[str, str]] = {}
        with self.engine.connect() as db:
            for row in db.execute(select(mail_preferences).where(p.user_id.in_(list(user_ids)))):
                found.setdefault(row.user_id, {})[row.kind] = row.mode
        return found

    def recipients(self, user_ids: Iterable[str]) -> dict[str, Recipient]:
        """Those of the users with a confirmed address, by user id (for the mailer)."""
        ids = list(user_ids)
        a = mail_addresses.c
        with self.engine.connect() as db:
            rows = db.execute(select(a.user_id, a.address).where(
                a.user_id.in_(ids), a.confirmed_at.is_not(None))).all()
        modes = self.recipient_modes([r.user_id for r in rows])
        return {r.user_id: Recipient(r.user_id, r.address, modes.get(r.user_id, {}))
                for r in rows}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
