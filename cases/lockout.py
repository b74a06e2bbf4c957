"""Account lockout: after five wrong passwords or second-factor codes in a row a user name is
locked for a while.

Kept in its own table, not the event log: failed sign-ins are not changes to anything, and a
guesser must not be able to fill the log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, delete, select

from .errors import AuthenticationFailed

MAX_FAILURES = 5
LOCKED_FOR = timedelta(minutes=15)

metadata = MetaData()

login_failures = Table(
    "divex_login_failures",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", String(40), nullable=False),  # ISO UTC, "" when not locked
)


class Lockout:
    def __init__(self, engine: Engine,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.clock = clock

    def create_table(self) -> None:
        metadata.create_all(self.engine)

    def check(self, username: str) -> None:
        """Refuses a locked user name before its password is even tried."""
        row = self._row(username)
        if row and row.locked_until and datetime.fromisoformat(row.locked_until) > self.clock():
            until = datetime.fromisoformat(row.locked_until)
            raise AuthenticationFailed(
                f"Too many wrong passwords or codes: this account is locked until "
                f"{until.strftime('%H:%M')} UTC. Try again then, or ask your state admin.")

    def failed(self, username: str) -> None:
        row = self._row(username)
        count = (row.failures if row and not row.locked_until else 0) + 1
        locked = (self.clock() + LOCKED_FOR).isoformat() if count >= MAX_FAILURES else ""
        with self.engine.begin() as db:
            db.execute(delete(login_failures).where(login_failures.c.username == username))
            db.execute(login_failures.insert().values(username=username, locked_until=locked,
                                                      failures=0 if locked else count))

    def succeeded(self, username: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(login_failures).where(login_failures.c.username == username))

    def _row(self, username: str):
        with self.engine.connect() as db:
            return db.execute(select(login_failures).where(
                login_failures.c.username == username)).first()
