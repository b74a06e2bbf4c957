"""The match oracle: holds the OPRF key and evaluates blinded elements for states, within a
daily limit per state (issue 20).

It never sees an identifier: only blinded group elements, which look random. It counts each
state's evaluations per day (UTC) in its own table and refuses beyond the limit; it refuses a
blinded element seen before (a replay) and anything that is not a group element (a forgery).
The request that asked records the signed event of the usage (`OracleUsage`), with the count
and the day's total, never the input.

Embedded, the oracle runs in the web process (`MatchOracle`); scaled out it is its own process,
`divex oracle` (`infra.oracle_server`), the only one that reads the key file, and the web
processes call it (`RemoteOracle`), each request signed with the asking state's key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import (
    Column,
    Date,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)

from cases.kernel.errors import Busy, Forbidden, InvalidInput
from cases.kernel.ledger import Actor, Ledger, SignedAggregate, stored_as
from crypto import CryptoError, canonical_json, oprf

metadata = MetaData()

# Digests of the blinded elements evaluated: a replayed element is refused.
oracle_seen = Table(
    "divex_oracle_seen",
    metadata,
    Column("digest", LargeBinary(32), primary_key=True),
    Column("state", String(3), nullable=False),
    Column("day", Date, nullable=False),
)

# Evaluations per state and day: the limit is checked and counted in one statement.
oracle_usage = Table(
    "divex_oracle_usage",
    metadata,
    Column("state", String(3), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("total", Integer, nullable=False),
)

# The id of the oracle's current key: rows entered under another key are entered again.
oracle_keys = Table(
    "divex_oracle_keys",
    metadata,
    Column("slot", Integer, primary_key=True),  # always 1
    Column("key_id", String(16), nullable=False),
)

_USAGE = uuid.UUID("6d2f0f8e-4f8e-4c55-9a39-3f1c1c0d7a21")
SIGNED_FOR_SECONDS = 300  # how old a signed request to a remote oracle may be


@stored_as("cases.hits.usage")
class OracleUsage(SignedAggregate):
    """A state's evaluations on one day (UTC), as the log records them."""

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


class Oracle(Protocol):
    """What the hit check asks of an oracle, in process or remote."""

    def left_today(self, state: str) -> int: ...

    def key_id(self) -> str: ...

    def evaluate(self, actor: Actor,
                 blinded: Sequence[bytes]) -> tuple[list[bytes], int, str]: ...


def key_id_of(key: bytes) -> str:
    """A short public id of an OPRF key: a digest of its public element."""
    return hashlib.sha256(oprf.public_element(key)).hexdigest()[:16]


def rotate_key(path: Path, engine: Engine) -> str:
    """A new oracle key in the key file (replaced whole, mode 0600), published by its id;
    the oracle takes it at its next request. Returns the new id."""
    key = oprf.new_key()
    fresh = path.with_name(path.name + ".new")
    fresh.unlink(missing_ok=True)
    with os.fdopen(os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
        f.write(key)
    fresh.replace(path)
    publish_key_id(engine, key_id_of(key))
    return key_id_of(key)


def publish_key_id(engine: Engine, key_id: str) -> None:
    with engine.begin() as connection:
        if connection.execute(update(oracle_keys).where(oracle_keys.c.slot == 1).values(
                key_id=key_id)).rowcount == 0:
            connection.execute(insert(oracle_keys).values(slot=1, key_id=key_id))


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


class UsageCounter:
    """The oracle's counts, read by anyone with the database, written by the oracle."""

    def __init__(self, engine: Engine, daily_limit: int) -> None:
        self.engine, self.daily_limit = engine, daily_limit

    def key_id(self) -> str:
        with self.engine.connect() as connection:
            return connection.execute(select(oracle_keys.c.key_id)).scalar() or ""

    def left_today(self, state: str) -> int:
        with self.engine.connect() as connection:
            total = connection.execute(select(oracle_usage.c.total).where(
                oracle_usage.c.state == state, oracle_usage.c.day == _today())).scalar()
        return self.daily_limit - (total or 0)


class MatchOracle(UsageCounter):
    """The oracle itself: the key, the counts, the evaluation."""

    def __init__(self, ledger: Ledger, key_file: Path, daily_limit: int) -> None:
        super().__init__(ledger.recorder.datastore.engine, daily_limit)  # type: ignore[attr-defined]
        self.ledger, self.key_file = ledger, key_file
        self._key = load_or_create_key(key_file)
        if self.key_id() != key_id_of(self._key):
            publish_key_id(self.engine, key_id_of(self._key))

    def evaluate(self, actor: Actor,
                 blinded: Sequence[bytes]) -> tuple[list[bytes], int, str]:
        return self.evaluate_for(actor.state, blinded)

    def evaluate_for(self, state: str,
                     blinded: Sequence[bytes]) -> tuple[list[bytes], int, str]:
        """The evaluated elements, the state's new total for the day and the key's id; all
        or none."""
        if self.key_id() != key_id_of(self._key):  # rotated by `divex oracle rotate`
            self._key = load_or_create_key(self.key_file)
        if not blinded:
            return [], self.daily_limit - self.left_today(state), key_id_of(self._key)
        try:
            evaluated = [oprf.evaluate(self._key, element) for element in blinded]
        except CryptoError:
            raise InvalidInput("A blinded element is not a point of the group.",
                               field="blinded") from None
        digests = {hashlib.sha256(element).digest() for element in blinded}
        if len(digests) < len(blinded):
            raise InvalidInput("A blinded element was sent twice.", field="blinded")
        day, u = _today(), oracle_usage.c
        with self.ledger.transaction() as session:  # a race on a new day's row: a Conflict
            if session.execute(select(oracle_seen.c.digest).where(
                    oracle_seen.c.digest.in_(list(digests)))).first() is not None:
                raise InvalidInput("A blinded element was sent before: it is refused as a "
                                   "replay.", field="blinded")
            if session.execute(select(u.total).where(u.state == state, u.day == day)
                               ).first() is None:
                session.execute(insert(oracle_usage).values(state=state, day=day, total=0))
            counted = session.execute(update(oracle_usage).where(
                u.state == state, u.day == day, u.total + len(blinded) <= self.daily_limit
            ).values(total=u.total + len(blinded))).rowcount
            if not counted:
                raise Busy("Your state has used its %(limit)s private hit checks for today "
                           "(%(left)s left); the rest are checked tomorrow.",
                           retry_after=_seconds_to_midnight(), limit=self.daily_limit,
                           left=self.left_today(state))
            session.execute(insert(oracle_seen), [
                {"digest": d, "state": state, "day": day} for d in digests])
            total = session.execute(select(u.total).where(u.state == state, u.day == day)
                                    ).scalar_one()
        return evaluated, total, key_id_of(self._key)


class RemoteOracle(UsageCounter):
    """The web processes' side of a remote oracle: each request signed with the asking
    state's current signing key, which the oracle checks against the directory."""

    def __init__(self, engine: Engine, url: str, daily_limit: int) -> None:
        super().__init__(engine, daily_limit)
        self.url = url.rstrip("/")

    def evaluate(self, actor: Actor,
                 blinded: Sequence[bytes]) -> tuple[list[bytes], int, str]:
        body = signed_request(actor, blinded)
        request = urllib.request.Request(f"{self.url}/evaluate", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 422:
                raise InvalidInput("The match oracle refused the request: %(reason)s",
                                   reason=_reason(error)) from None
            if error.code == 403:
                raise Forbidden("The match oracle refused the request: %(reason)s",
                                reason=_reason(error)) from None
            raise Busy("The match oracle cannot take this now: %(reason)s",
                       retry_after=int(error.headers.get("Retry-After") or 60),
                       reason=_reason(error)) from None
        except (urllib.error.URLError, OSError):
            raise Busy("The match oracle cannot be reached; the check is made later.",
                       retry_after=60) from None
        return ([base64.b64decode(e) for e in answer["evaluated"]], int(answer["total"]),
                str(answer["key_id"]))


def signed_request(actor: Actor, blinded: Sequence[bytes]) -> dict[str, object]:
    """A request for a remote oracle: the elements, the state, when, and the state's
    signature over them (canonical JSON)."""
    body: dict[str, object] = {
        "state": actor.state, "key_version": actor.keys.version,
        "signed_at": datetime.now(UTC).isoformat(),
        "elements": [base64.b64encode(e).decode() for e in blinded]}
    return {**body, "signature": actor.keys.sign(canonical_json(body)).hex()}


def _reason(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read())["error"]["message"])[:200]
    except (ValueError, KeyError, TypeError):
        return str(error.code)


def _seconds_to_midnight() -> int:
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), UTC)
    return max(1, int((midnight - now).total_seconds()))


def _today() -> date:
    return datetime.now(UTC).date()
