"""Who is acting: a signed-in user of one state, with that state's unlocked keyring."""

from __future__ import annotations

from dataclasses import dataclass, field

from cases.kernel.ledger import Actor
from crypto import Keyring, UserKey

ANALYST = "analyst"
REVIEWER = "reviewer"
AUDITOR = "auditor"
STATE_ADMIN = "state_admin"
SECRETARIAT = "secretariat"
ROLES = (ANALYST, REVIEWER, AUDITOR, STATE_ADMIN, SECRETARIAT)


@dataclass(frozen=True)
class Viewer:
    """The acting user. ``keyring`` holds every version of the state's private keys;
    ``own_key`` is the user's own key where the sign-in kept it (web sessions, API tokens)."""

    user_id: str
    username: str
    state: str
    roles: frozenset[str]
    keyring: Keyring = field(repr=False)
    own_key: UserKey | None = field(default=None, repr=False, compare=False)

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def actor(self) -> Actor:
        return Actor(state=self.state, user=self.user_id, keys=self.keyring.current)
