"""What a pending invitation needs beside the log: the digest of its secret and, for a user
of an existing state, the state keyring sealed to the key its code derives.

A row lives while the invitation is pending; accepting, revoking or expiring it deletes the
row in the same transaction as the event. Without the code nothing here opens: the secret
itself is stored nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Engine, LargeBinary, MetaData, String, Table, delete, select
from sqlalchemy.orm import Session

metadata = MetaData()

pending_invitations = Table(
    "divex_pending_invitations",
    metadata,
    Column("invitation_id", String(36), primary_key=True),
    Column("state", String(3), nullable=False, index=True),
    # SHA-256 of the code's 256-bit secret (crypto.invitation).
    Column("digest", String(64), nullable=False),
    # The X25519 public key the code derives, to re-seal the keyring when keys rotate.
    Column("invitation_public", LargeBinary, nullable=True),
    # The state keyring sealed to that key; empty for a state's first admin (no keys yet).
    Column("keyring_sealed", LargeBinary, nullable=True),
)


@dataclass(frozen=True)
class PendingInvitation:
    invitation_id: str
    state: str
    digest: str
    invitation_public: bytes | None = None
    keyring_sealed: bytes | None = None


class InvitationStore:
    """Reads and writes pending invitations; writes take the caller's transaction session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_table(self) -> None:
        metadata.create_all(self.engine)

    def get(self, session: Session, invitation_id: str) -> PendingInvitation | None:
        row = session.execute(select(pending_invitations).where(
            pending_invitations.c.invitation_id == invitation_id)).first()
        return PendingInvitation(**row._mapping) if row else None

    def of_state(self, session: Session, state: str) -> list[PendingInvitation]:
        rows = session.execute(select(pending_invitations).where(
            pending_invitations.c.state == state))
        return [PendingInvitation(**row._mapping) for row in rows]

    def put(self, session: Session, row: PendingInvitation) -> None:
        self.drop(session, row.invitation_id)
        session.execute(pending_invitations.insert().values(**row.__dict__))

    def drop(self, session: Session, invitation_id: str) -> None:
        session.execute(delete(pending_invitations).where(
            pending_invitations.c.invitation_id == invitation_id))
