"""Invitations: how a state's first admin and every later user join the exchange.

An invitation names the state, the user name and the roles; whoever holds its code (shown
once to the one who issued it, sent out of band) sets their own password when accepting. The
log records the facts, signed: issued (by the secretariat for a state's first admin, by a
state admin for a user of their state), accepted (by the new user, with the state's key),
revoked, expired. The code's secret is never in the log (`cases.invitation_store`).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from cases.kernel.errors import Conflict
from cases.kernel.ledger import Actor, SignedAggregate

FIRST_ADMIN = "first_admin"  # registers the state: its keys are made on acceptance
USER = "user"  # joins an existing state: the keyring travels sealed to the code
REACTIVATE = "reactivate"  # a deactivated user comes back with a new password, as USER
# A new state admin for a state that lost all of its admins, invited by the secretariat: no
# keyring travels with it; the invitee opens the state's keys with its recovery secret.
READMIT = "readmit_admin"
KINDS = (FIRST_ADMIN, USER, REACTIVATE, READMIT)
BY_SECRETARIAT = (FIRST_ADMIN, READMIT)

PENDING = "pending"
ACCEPTED = "accepted"
REVOKED = "revoked"
EXPIRED = "expired"


class Invitation(SignedAggregate):
    """A single-use invitation of one person into one state, with roles and an expiry."""

    class Issued(SignedAggregate.Created):
        state: str
        kind: str
        username: str
        roles: list[str]
        display_name: str
        state_status: str  # the status the state is registered with (first admin), else ""
        expires: str  # ISO 8601, UTC

    def __init__(self, state: str, kind: str, username: str, roles: list[str],
                 display_name: str, state_status: str, expires: str, actor_user: str) -> None:
        self.state = state
        self.kind = kind
        self.username = username
        self.roles = list(roles)
        self.display_name = display_name
        self.state_status = state_status
        self.expires = expires
        self.status = PENDING
        self.issued_by = actor_user  # the id of the user who issued it
        self.closed_on: datetime | None = None

    @classmethod
    def issue(cls, actor: Actor, invitation_id: UUID, state: str, kind: str, username: str,
              roles: list[str], display_name: str, expires: datetime,
              state_status: str = "") -> Invitation:
        return cls._start(cls.Issued, invitation_id, actor, state=state, kind=kind,
                          username=username, roles=roles, display_name=display_name,
                          state_status=state_status, expires=expires.isoformat())

    @property
    def expires_at(self) -> datetime:
        return datetime.fromisoformat(self.expires)

    def is_open(self, now: datetime) -> bool:
        """Pending and not past its expiry: the only state in which it can be accepted."""
        return self.status == PENDING and now < self.expires_at

    def refuse_unless_open(self, now: datetime) -> None:
        if self.status == ACCEPTED:
            raise Conflict("This invitation was already used.", field="code")
        if self.status == REVOKED:
            raise Conflict("This invitation was revoked. Ask for a new one.", field="code")
        if self.status == EXPIRED or now >= self.expires_at:
            raise Conflict("This invitation has expired. Ask for a new one.", field="code")

    class Accepted(SignedAggregate.Event):
        user_id: str

        def apply(self, invitation: Invitation) -> None:
            invitation.status = ACCEPTED
            invitation.closed_on = self.timestamp

    def accept(self, actor: Actor, now: datetime) -> None:
        self.refuse_unless_open(now)
        self._record(self.Accepted, actor, user_id=actor.user)

    class Revoked(SignedAggregate.Event):
        def apply(self, invitation: Invitation) -> None:
            invitation.status = REVOKED
            invitation.closed_on = self.timestamp

    def revoke(self, actor: Actor) -> None:
        if self.status != PENDING:
            raise Conflict("Only a pending invitation can be revoked.")
        self._record(self.Revoked, actor)

    class Expired(SignedAggregate.Event):
        """Recorded when an admin's command finds the invitation past its expiry."""

        def apply(self, invitation: Invitation) -> None:
            invitation.status = EXPIRED
            invitation.closed_on = self.timestamp

    def expire(self, actor: Actor) -> None:
        self._record(self.Expired, actor)
