"""Slowing password and code guessing without handing anyone a way to lock a user out.

Every wrong password or second-factor code is recorded with the client's address. Two rules
follow from the last 15 minutes of them:

- **per account and address**: five wrong tries from one address stop that address trying
  that account for 15 minutes; the user, signing in from elsewhere, is not affected;
- **per account**: from the fifth wrong try (from any address) each next try waits a delay
  that doubles with every failure, up to a minute: a crowd of addresses guesses no faster
  than one try a minute, and the user waits a minute at the worst.

A right password (or code, for a user with a second factor) clears its own address's count.
The user is told, once, of the wrong tries made since their last sign-in, and sees those of
the last 30 days on their security page. Kept in its own table, not the event log: failed
sign-ins change nothing, and a guesser must not be able to fill the log.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)

from cases.kernel.errors import AuthenticationFailed

PAIR_LIMIT = 5  # wrong tries from one address at one account within the window
FREE_TRIES = 5  # wrong tries at one account, from anywhere, before each next one waits
MAX_DELAY = timedelta(minutes=1)
WINDOW = timedelta(minutes=15)
KEPT_FOR = timedelta(days=30)  # shown to the user on their security page
COMMAND_LINE = "command line"  # the address of tries made with the `divex` CLI

metadata = MetaData()

sign_in_failures = Table(
    "divex_sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", String(40), nullable=False),  # ISO UTC
    Column("counted", Boolean, nullable=False),  # False once a right try from that address
    Column("seen", Boolean, nullable=False),  # True once the user was told of it
    Index("divex_sign_in_failures_user", "username", "at"),
)


@dataclass(frozen=True)
class Failure:
    """One wrong password or code for an account: when, and from which address."""

    at: datetime
    address: str


class Lockout:
    def __init__(self, engine: Engine,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.clock = clock

    def create_table(self) -> None:
        metadata.create_all(self.engine)

    def check(self, username: str, address: str) -> None:
        """Refuses a try that comes too soon, before its password is even tried."""
        now = self.clock()
        counted = self.counting(username)
        mine = [at for at, where in counted if where == address]
        if len(mine) >= PAIR_LIMIT:
            until = mine[-PAIR_LIMIT] + WINDOW
            raise AuthenticationFailed(
                "Too many wrong passwords or codes for this account came from your network: "
                "try again after %(time)s UTC, or ask your state admin.",
                time=until.strftime("%H:%M"))
        if len(counted) >= FREE_TRIES:
            delay = min(timedelta(seconds=2 ** (len(counted) - FREE_TRIES)), MAX_DELAY)
            wait = counted[-1][0] + delay - now
            if wait > timedelta(0):
                raise AuthenticationFailed(
                    "Wrong passwords were tried for this account a moment ago: wait "
                    "%(seconds)s seconds, then try again.",
                    seconds=math.ceil(wait.total_seconds()))

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with self.engine.begin() as db:
            db.execute(delete(sign_in_failures).where(
                sign_in_failures.c.at < _iso(now - KEPT_FOR)))
            db.execute(sign_in_failures.insert().values(
                username=username, address=address[:64], at=_iso(now), counted=True,
                seen=False))

    def succeeded(self, username: str, address: str) -> None:
        """A right try: its address's wrong tries no longer count (those of others still do)."""
        with self.engine.begin() as db:
            db.execute(update(sign_in_failures).where(
                sign_in_failures.c.username == username,
                sign_in_failures.c.address == address[:64]).values(counted=False))

    def unseen(self, username: str) -> list[Failure]:
        """The wrong tries the user has not been told of yet, newest first; now told."""
        found = self.recent(username, unseen_only=True)
        with self.engine.begin() as db:
            db.execute(update(sign_in_failures).where(
                sign_in_failures.c.username == username).values(seen=True))
        return found

    def recent(self, username: str, *, unseen_only: bool = False) -> list[Failure]:
        """The wrong tries of the last 30 days, newest first."""
        query = select(sign_in_failures.c.at, sign_in_failures.c.address).where(
            sign_in_failures.c.username == username,
            sign_in_failures.c.at >= _iso(self.clock() - KEPT_FOR))
        if unseen_only:
            query = query.where(sign_in_failures.c.seen.is_(False))
        with self.engine.connect() as db:
            rows = db.execute(query.order_by(sign_in_failures.c.at.desc())).all()
        return [Failure(datetime.fromisoformat(at), address) for at, address in rows]

    def counting(self, username: str) -> list[tuple[datetime, str]]:
        """The wrong tries that slow the next one (the window's, not cleared), oldest first."""
        since = self.clock() - WINDOW
        with self.engine.connect() as db:
            rows = db.execute(select(sign_in_failures.c.at, sign_in_failures.c.address).where(
                sign_in_failures.c.username == username,
                sign_in_failures.c.counted.is_(True),
                sign_in_failures.c.at >= _iso(since)).order_by(sign_in_failures.c.at))
            return [(datetime.fromisoformat(at), address) for at, address in rows]


def _iso(moment: datetime) -> str:
    """One fixed-width form, so that stored times compare as strings."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
