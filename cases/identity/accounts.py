"""What a right password opens (`Unlocked`), and what the second-factor service needs of the
directory (`Accounts`): the directory provides it, the second-factor service depends only on
this, so neither service module imports the other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cases.identity.directory import State, User
from cases.identity.lockout import Lockout
from cases.kernel.keystore import KeyStore
from cases.kernel.ledger import Ledger
from cases.kernel.viewer import Viewer
from crypto import Keyring, UserKey


@dataclass(frozen=True)
class Unlocked:
    """A right password: the user, their own key and their state's keyring. For a user with a
    second factor this is not yet a sign-in (`SecondFactors.verify` makes it one)."""

    user: User
    user_key: UserKey
    keyring: Keyring

    @property
    def viewer(self) -> Viewer:
        return Viewer(user_id=str(self.user.id), username=self.user.username,
                      state=self.user.state, roles=frozenset(self.user.roles),
                      keyring=self.keyring, own_key=self.user_key)


class Accounts(Protocol):
    """The directory as the second-factor service uses it."""

    ledger: Ledger
    keystore: KeyStore
    lockout: Lockout

    def unlock(self, username: str, password: str) -> Unlocked: ...

    def user(self, username: str) -> User: ...

    def states(self) -> list[State]: ...

    def users_of_state(self, code: str) -> list[User]: ...
