"""The match oracle: holds the OPRF key and evaluates blinded elements for states, within a
daily limit per state (issue 20).

It never sees an identifier: only blinded group elements, which look random. Each batch it
evaluates is a signed event of the requesting state's usage for the day (`OracleUsage`), with
the count and the day's total, never the input. A blinded element seen before is refused (a
replay), and so is anything that is not a group element (a forgery).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import Column, Date, LargeBinary, MetaData, String, Table, insert, select

from cases.kernel.errors import Busy, InvalidInput
from cases.kernel.ledger import Actor, Ledger, SignedAggregate, stored_as
from crypto import CryptoError, oprf

metadata = MetaData()

# Digests of the blinded elements evaluated: a replayed element is refused.
oracle_seen = Table(
    "divex_oracle_seen",
    metadata,
    Column("digest", LargeBinary(32), primary_key=True),
    Column("state", String(3), nullable=False),
    Column("day", Date, nullable=False),
)

_USAGE = uuid.UUID("6d2f0f8e-4f8e-4c55-9a39-3f1c1c0d7a21")


@stored_as("cases.hits.usage")
class OracleUsage(SignedAggregate):
    """A state's evaluations on one day (UTC): the oracle's counter, in the log."""

    class Started(SignedAggregate.Created):
        state: str
        day: str

    def __init__(self, state: str, day: str) -> None:
        self.state, self.day, self.total = state, day, 0

    class Evaluated(SignedAggregate.Event):
        count: int
        total: int

        def apply(self, usage: OracleUsage) -> None:
            usage.total = self.total

    @staticmethod
    def id_for(state: str, day: str) -> uuid.UUID:
        return uuid.uuid5(_USAGE, f"{state}|{day}")


def load_or_create_key(path: Path) -> bytes:
    """The oracle's OPRF key from its file (created, mode 0600, if missing)."""
    if path.exists():
        key = path.read_bytes()
        if len(key) != oprf.SCALAR_BYTES:
            raise CryptoError(f"{path} is not an oracle key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = oprf.new_key()
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(key)
    except FileExistsError:  # another process made it first
        return load_or_create_key(path)
    return key


class MatchOracle:
    def __init__(self, ledger: Ledger, key: bytes, daily_limit: int) -> None:
        self.ledger, self._key, self.daily_limit = ledger, key, daily_limit

    def left_today(self, state: str) -> int:
        usage = self._usage(state, _today())
        return self.daily_limit - (usage.total if usage else 0)

    def evaluate(self, actor: Actor, blinded: Sequence[bytes]) -> list[bytes]:
        """The evaluated elements, for a state within its day's limit; all or none."""
        if not blinded:
            return []
        try:
            evaluated = [oprf.evaluate(self._key, element) for element in blinded]
        except CryptoError:
            raise InvalidInput("A blinded element is not a point of the group.",
                               field="blinded") from None
        digests = {hashlib.sha256(element).digest() for element in blinded}
        if len(digests) < len(blinded):
            raise InvalidInput("A blinded element was sent twice.", field="blinded")
        day = _today()
        usage = self._usage(actor.state, day) or OracleUsage._start(
            OracleUsage.Started, OracleUsage.id_for(actor.state, day), actor,
            state=actor.state, day=day)
        total = usage.total + len(blinded)
        if total > self.daily_limit:
            raise Busy("Your state has used its %(limit)s private hit checks for today "
                       "(%(left)s left); the rest are checked tomorrow.",
                       retry_after=_seconds_to_midnight(), limit=self.daily_limit,
                       left=self.daily_limit - usage.total)
        usage._record(OracleUsage.Evaluated, actor, count=len(blinded), total=total)
        with self.ledger.transaction() as session:  # a replay in a race: a Conflict
            seen = session.execute(select(oracle_seen.c.digest).where(
                oracle_seen.c.digest.in_(list(digests)))).first()
            if seen is not None:
                raise InvalidInput("A blinded element was sent before: it is refused as a "
                                   "replay.", field="blinded")
            session.execute(insert(oracle_seen), [
                {"digest": d, "state": actor.state, "day": date.fromisoformat(day)}
                for d in digests])
            self.ledger.save(usage)
        return evaluated

    def _usage(self, state: str, day: str) -> OracleUsage | None:
        try:
            return self.ledger.repository.get(OracleUsage.id_for(state, day))
        except AggregateNotFoundError:
            return None


def _seconds_to_midnight() -> int:
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), UTC)
    return max(1, int((midnight - now).total_seconds()))


def _today() -> str:
    return datetime.now(UTC).date().isoformat()
