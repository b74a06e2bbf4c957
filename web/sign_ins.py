"""When each user last signed in on the web, and their open sessions: so a user notices a
sign-in that was not theirs, and a state admin sees accounts no one uses any more.

One row per user (the last and the previous sign-in), written at each sign-in; it says
nothing a session row does not already say, and holds no key.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, select
from sqlalchemy.exc import IntegrityError

from .sessions import web_sessions

metadata = MetaData()

sign_ins = Table(
    "web_sign_ins",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("last", DateTime, nullable=False),
    Column("previous", DateTime, nullable=True),
)


# The networks each user signed in from, as keyed digests (never the address itself).
sign_in_places = Table(
    "web_sign_in_places",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("place", String(64), primary_key=True),
)


def place_of(address: str, secret: str) -> str:
    """A keyed digest of the address's network (IPv4 /24, IPv6 /48): a sign-in from the same
    office or provider is the same place; the digest cannot be turned back into the network
    without the server's secret."""
    try:
        network = str(ipaddress.ip_network(
            address + ("/48" if ":" in address else "/24"), strict=False))
    except ValueError:
        network = address  # not an IP address: kept as it came
    return hmac.new(secret.encode(), network.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class OpenSession:
    id_hash: str
    created: datetime
    seen: datetime


class SignIns:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # its table is made by `infra.wiring.prepare_store`

    def record(self, user_id: str) -> None:
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.engine.begin() as db:
            moved = db.execute(sign_ins.update().where(sign_ins.c.user_id == user_id).values(
                previous=sign_ins.c.last, last=now)).rowcount
            if moved:
                return
            try:
                with db.begin_nested():
                    db.execute(sign_ins.insert().values(user_id=user_id, last=now))
            except IntegrityError:  # a first sign-in of the same user at the same moment
                db.execute(sign_ins.update().where(sign_ins.c.user_id == user_id).values(
                    previous=sign_ins.c.last, last=now))

    def new_place(self, user_id: str, place: str) -> bool:
        """Records the place; True when the user signed in before, but never from there."""
        p = sign_in_places.c
        with self.engine.begin() as db:
            known = set(db.execute(select(p.place).where(p.user_id == user_id)).scalars())
            if place in known:
                return False
            try:
                with db.begin_nested():
                    db.execute(sign_in_places.insert().values(user_id=user_id, place=place))
            except IntegrityError:  # the same new place recorded by a concurrent sign-in
                return False
        return bool(known)

    def last(self, user_ids: list[str]) -> dict[str, tuple[datetime, datetime | None]]:
        """User id -> (last sign-in, the one before), UTC, for those who ever signed in."""
        with self.engine.connect() as db:
            rows = db.execute(select(sign_ins).where(sign_ins.c.user_id.in_(user_ids)))
            return {row.user_id: (row.last, row.previous) for row in rows}

    def sessions_of(self, user_id: str) -> list[OpenSession]:
        """The user's signed-in sessions, newest first (expired ones are purged at sign-in)."""
        with self.engine.connect() as db:
            rows = db.execute(select(web_sessions.c.id_hash, web_sessions.c.created,
                                     web_sessions.c.seen).where(
                web_sessions.c.user_id == user_id).order_by(web_sessions.c.created.desc()))
            return [OpenSession(*row) for row in rows]
