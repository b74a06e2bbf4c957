"""Server-side sessions with a split key: the row holds sealed data, the cookie holds the key.

The cookie carries a random session id and a random 32-byte per-session key. The row, keyed by
SHA-256 of the id, holds the session data and the user's unlocked state keyring, both sealed
(AES-256-GCM) under that key. A database dump alone, or a cookie alone, opens nothing; logout
and expiry delete the row, so a session can be revoked, and any worker can serve it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    select,
)
from werkzeug.datastructures import CallbackDict

from crypto import CaseKey, CryptoError, Keyring

metadata = MetaData()

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    # In clear so every session of a user can be revoked at once; nothing else is.
    Column("user_id", String(36), nullable=True, index=True),
    Column("data", LargeBinary, nullable=False),
    Column("keyring", LargeBinary, nullable=True),
    Column("created", DateTime, nullable=False),
    Column("seen", DateTime, nullable=False),
)

_SECRET_SIZE = 32
# An unchanged session is written back at most this often, to move its idle deadline.
_TOUCH_EVERY = timedelta(seconds=60)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ServerSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    """One browser's session: its data, its keys, and the keyring unlocked at login."""

    def __init__(self, initial: dict[str, Any] | None = None, *, new: bool = True,
                 sid: bytes | None = None, key: bytes | None = None,
                 created: datetime | None = None, seen: datetime | None = None,
                 keyring: Keyring | None = None) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.new = new
        self.modified = False
        self.sid = sid or os.urandom(_SECRET_SIZE)
        self.key = key or os.urandom(_SECRET_SIZE)
        self.created = created or _now()
        self.seen = seen or self.created
        self.keyring = keyring
        self.discarded: list[str] = []

    @property
    def id_hash(self) -> bytes:
        return hashlib.sha256(self.sid).digest()

    @property
    def cookie_value(self) -> str:
        return f"{_b64(self.sid)}.{_b64(self.key)}"

    def set_keyring(self, keyring: Keyring | None) -> None:
        self.keyring = keyring
        self.modified = True

    def regenerate(self, keep: tuple[str, ...] = ("lang",)) -> None:
        """Starts afresh under a new id and key (login, logout); the old row is deleted."""
        if not self.new:
            self.discarded.append(self.id_hash.hex())
        kept = {k: self[k] for k in keep if k in self}
        self.clear()
        self.update(kept)
        self.sid, self.key = os.urandom(_SECRET_SIZE), os.urandom(_SECRET_SIZE)
        self.created = self.seen = _now()
        self.keyring = None
        self.new = True
        self.modified = True


class ServerSessionInterface(SessionInterface):
    """Stores sessions in `web_sessions` on the given SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # its table is made by `infra.wiring.prepare_store`

    # Flask hooks

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        parsed = self._parse(request.cookies.get(self.get_cookie_name(app), ""))
        if parsed is None:
            return ServerSession()
        sid, key = parsed
        id_hash = hashlib.sha256(sid).digest()
        with self.engine.connect() as conn:
            row = conn.execute(select(web_sessions).where(
                web_sessions.c.id_hash == id_hash.hex())).first()
        if row is None:
            return ServerSession()
        if self._expired(app, row.created, row.seen):
            self.delete(id_hash.hex())
            return ServerSession()
        try:
            box = CaseKey(version=1, secret=key)
            data = json.loads(box.open(row.data, id_hash + b":data"))
            keyring = (Keyring.from_bytes(box.open(row.keyring, id_hash))
                       if row.keyring else None)
        except (CryptoError, ValueError):
            # A cookie with the right id but not the right key: a guess or a theft. The row
            # stays (deleting it would let anyone holding an id log its owner out).
            return ServerSession()
        return ServerSession(data, new=False, sid=sid, key=key, created=row.created,
                             seen=row.seen, keyring=keyring)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name, domain, path = (self.get_cookie_name(app), self.get_cookie_domain(app),
                              self.get_cookie_path(app))
        for old in session.discarded:
            self.delete(old)
        if not session and session.keyring is None:
            if not session.new:
                self.delete(session.id_hash.hex())
            if session.new and name in request.cookies:
                response.delete_cookie(name, domain=domain, path=path)
            return
        now = _now()
        if not session.new and not session.modified and now - session.seen < _TOUCH_EVERY:
            return
        self._store(session, now)
        if session.new:
            response.set_cookie(
                name, session.cookie_value, domain=domain, path=path,
                httponly=True, samesite=app.config.get("SESSION_COOKIE_SAMESITE") or "Lax",
                secure=bool(app.config.get("SESSION_COOKIE_SECURE")))
        response.vary.add("Cookie")

    # Store

    def delete(self, id_hash_hex: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash_hex))

    def revoke_user(self, user_id: str) -> None:
        """Ends every session of one user (e.g. when the account is deactivated)."""
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))

    def purge_expired(self, app: Flask) -> None:
        idle, absolute = _limits(app)
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(
                (web_sessions.c.seen < now - idle) | (web_sessions.c.created < now - absolute)))

    def _store(self, session: ServerSession, now: datetime) -> None:
        id_hash = session.id_hash
        box = CaseKey(version=1, secret=session.key)
        data = box.seal(json.dumps(dict(session), default=str).encode(), id_hash + b":data")
        keyring = (box.seal(session.keyring.to_bytes(), id_hash)
                   if session.keyring is not None else None)
        user_id = session.get("user_id") if session.keyring is not None else None
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash.hex()))
            conn.execute(web_sessions.insert().values(
                id_hash=id_hash.hex(), user_id=user_id, data=data, keyring=keyring,
                created=session.created, seen=now))
        session.seen = now

    @staticmethod
    def _parse(value: str) -> tuple[bytes, bytes] | None:
        try:
            sid_text, key_text = value.split(".", 1)
            sid, key = _unb64(sid_text), _unb64(key_text)
        except (ValueError, binascii.Error):
            return None
        if len(sid) != _SECRET_SIZE or len(key) != _SECRET_SIZE:
            return None
        return sid, key

    @staticmethod
    def _expired(app: Flask, created: datetime, seen: datetime) -> bool:
        idle, absolute = _limits(app)
        now = _now()
        return now - seen > idle or now - created > absolute


def _limits(app: Flask) -> tuple[timedelta, timedelta]:
    return (timedelta(minutes=float(app.config["SESSION_IDLE_MINUTES"])),
            timedelta(hours=float(app.config["SESSION_ABSOLUTE_HOURS"])))

