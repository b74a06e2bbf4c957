"""Second-factor commands: enrol, sign in with a code, recovery codes, resets, and who may.

The TOTP secret and the key of the recovery-code digests are sealed to the user's own X25519
key (the one their password opens), not to a server key: a stolen database together with the
server's settings opens neither, and only the password step of a sign-in can check a code.
The User aggregate records the facts (enrolled, reset, codes issued, code used), signed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from cases.identity.accounts import Accounts, Unlocked
from cases.identity.directory import User
from cases.identity.lockout import COMMAND_LINE
from cases.identity.second_factor import (
    is_totp_code,
    matching_step,
    new_recovery_codes,
    new_recovery_key,
    recovery_digest,
)
from cases.kernel.errors import AuthenticationFailed, Conflict, Forbidden, InvalidInput, NotFound
from cases.kernel.keystore import SecondFactor
from cases.kernel.viewer import SECRETARIAT, STATE_ADMIN, Viewer
from crypto import CryptoError, UserKey, open_sealed, seal_to


def _secret_context(user_id: str) -> dict[str, str]:
    return {"purpose": "divex-second-factor", "user": user_id}


def _recovery_context(user_id: str) -> dict[str, str]:
    return {"purpose": "divex-recovery-codes", "user": user_id}


def check_secret(secret: str) -> str:
    try:
        raw = base64.b32decode((secret or "") + "=" * (-len(secret or "") % 8),
                               casefold=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) < 16:
        raise InvalidInput("Start the set-up again: the secret was lost.", field="code")
    return secret.upper()


class SecondFactors:
    """Lives beside the `Directory` (``directory.second_factors``) and uses its stores."""

    def __init__(self, directory: Accounts,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.directory = directory
        self.clock = clock

    # Queries

    def may_reset(self, viewer: Viewer, user: User) -> bool:
        """A state admin resets the users of their own state, except themselves (a stolen
        session must not strip its own account's factor); the secretariat resets any state
        admin's, for the state whose every admin lost theirs."""
        if not user.second_factor or str(user.id) == viewer.user_id:
            return False
        if viewer.has(STATE_ADMIN) and user.state == viewer.state:
            return True
        return viewer.has(SECRETARIAT) and STATE_ADMIN in user.roles

    def resettable(self, viewer: Viewer) -> list[User]:
        """Users whose second factor this viewer may reset, by state and name."""
        directory = self.directory
        states = ([s.code for s in directory.states()] if viewer.has(SECRETARIAT)
                  else [viewer.state] if viewer.has(STATE_ADMIN) else [])
        users = [u for code in states for u in directory.users_of_state(code)]
        return [u for u in users if self.may_reset(viewer, u)]

    # Commands

    def enrol(self, viewer: Viewer, secret: str, code: str, *, password: str,
              address: str = COMMAND_LINE) -> list[str]:
        """Keeps ``secret`` as the viewer's second factor once ``code`` shows their app holds
        it, after the password again (as for new recovery codes): a session left open or
        stolen must not set up a factor that then locks its owner out. Returns the recovery
        codes, to be shown once."""
        return self.enrol_at_sign_in(self.directory.unlock(viewer.username, password, address),
                                     secret, code)

    def enrol_at_sign_in(self, unlocked: Unlocked, secret: str, code: str) -> list[str]:
        """`enrol` for a sign-in whose password was just checked: ``unlocked`` is its proof
        (`Directory.unlock`, or `Directory.resume` of the sign-in waiting for this step)."""
        viewer = unlocked.viewer
        secret = check_secret(secret)
        user = self.directory.user(viewer.username)
        if user.second_factor:
            raise Conflict("A second factor is already set up for this account.")
        step = matching_step(secret, code, self.clock())
        if step is None:
            raise InvalidInput("That code is not right. Check that the clock of your device "
                               "is right and enter the code it shows now.", field="code")
        codes, key = new_recovery_codes(), new_recovery_key()
        user.enrol_second_factor(viewer.actor)
        user.issue_recovery_codes(viewer.actor, len(codes))
        uid = str(user.id)
        ledger, keystore = self.directory.ledger, self.directory.keystore
        with ledger.transaction() as session:
            public = self._user_public(session, uid)
            ledger.save(user)
            keystore.put_second_factor(session, SecondFactor(
                user_id=uid,
                secret_sealed=seal_to(public, secret.encode(), _secret_context(uid)),
                recovery_key_sealed=seal_to(public, key, _recovery_context(uid)),
                last_step=step,  # the code just shown cannot sign in as well
            ), [recovery_digest(key, c) for c in codes])
        return codes

    def verify(self, unlocked: Unlocked, code: str, address: str = COMMAND_LINE) -> Viewer:
        """The second step of a sign-in: a code from the app (each time step once, one step
        either side of now) or an unused recovery code. A wrong one counts toward the
        lockout like a wrong password."""
        directory = self.directory
        name = unlocked.user.username
        directory.lockout.check(name, address)
        user = directory.user(name)
        uid = str(user.id)
        ledger, keystore = directory.ledger, directory.keystore
        with ledger.transaction() as session:
            factor = keystore.second_factor(session, uid)
            if factor is None:
                raise AuthenticationFailed("Sign in again.")
            if is_totp_code(code):
                secret = self._open(unlocked.user_key, factor.secret_sealed,
                                    _secret_context(uid)).decode()
                step = matching_step(secret, code, self.clock())
                accepted = step is not None and keystore.advance_step(session, uid, step)
            else:
                key = self._open(unlocked.user_key, factor.recovery_key_sealed,
                                 _recovery_context(uid))
                accepted = keystore.use_recovery_code(session, uid, recovery_digest(key, code))
                if accepted:
                    user.use_recovery_code(unlocked.viewer.actor)
                    ledger.save(user)
        if not accepted:
            directory.lockout.failed(name, address)
            raise AuthenticationFailed("That code is not right, or it was already used.",
                                       field="code")
        directory.lockout.succeeded(name, address)
        return unlocked.viewer

    def regenerate_recovery_codes(self, viewer: Viewer, password: str,
                                  address: str = COMMAND_LINE) -> list[str]:
        """A new set of recovery codes (the old ones stop working), after the password again:
        a session left open is not enough to take over the account's way back in."""
        unlocked = self.directory.unlock(viewer.username, password, address)
        user = self.directory.user(viewer.username)
        uid = str(user.id)
        codes, key = new_recovery_codes(), new_recovery_key()
        user.issue_recovery_codes(viewer.actor, len(codes))
        ledger, keystore = self.directory.ledger, self.directory.keystore
        with ledger.transaction() as session:
            factor = keystore.second_factor(session, uid)
            assert factor is not None  # the aggregate said it is enrolled
            ledger.save(user)
            keystore.put_second_factor(session, SecondFactor(
                user_id=uid, secret_sealed=factor.secret_sealed,
                recovery_key_sealed=seal_to(unlocked.user_key.public_bytes, key,
                                            _recovery_context(uid)),
                last_step=factor.last_step), [recovery_digest(key, c) for c in codes])
        return codes

    def reset(self, viewer: Viewer, username: str) -> None:
        """Removes a user's second factor (lost phone and codes); they enrol again at their
        next sign-in if their roles require one."""
        if not (viewer.has(STATE_ADMIN) or viewer.has(SECRETARIAT)):
            raise Forbidden("Only a state admin or the secretariat resets a second factor.")
        user = self.directory.user(username)
        if user.state != viewer.state and not viewer.has(SECRETARIAT):
            raise NotFound("No user named '%(name)s'.", field="username", name=username)
        if str(user.id) == viewer.user_id:
            raise Forbidden("You cannot reset your own second factor; ask another state "
                            "admin or the secretariat.")
        if not user.second_factor:
            raise Conflict("%(name)s has no second factor to reset.", field="username",
                           name=user.username)
        if not self.may_reset(viewer, user):
            raise Forbidden("The secretariat resets the second factor of state admins only; "
                            "a state admin resets that of their own state's users.")
        user.reset_second_factor(viewer.actor, "admin_reset")
        with self.directory.ledger.transaction() as session:
            self.directory.ledger.save(user)
            self.directory.keystore.drop_second_factor(session, str(user.id))

    def reseal(self, session: Session, user_id: str, old_key: UserKey,
               new_public: bytes) -> None:
        """After a password change: the same second factor, sealed to the new user key."""
        keystore = self.directory.keystore
        factor = keystore.second_factor(session, user_id)
        if factor is None:
            return
        secret = self._open(old_key, factor.secret_sealed, _secret_context(user_id))
        key = self._open(old_key, factor.recovery_key_sealed, _recovery_context(user_id))
        keystore.put_second_factor(session, SecondFactor(
            user_id=user_id,
            secret_sealed=seal_to(new_public, secret, _secret_context(user_id)),
            recovery_key_sealed=seal_to(new_public, key, _recovery_context(user_id)),
            last_step=factor.last_step))

    # Helpers

    def _user_public(self, session: Session, uid: str) -> bytes:
        credential = self.directory.keystore.credential(session, uid)
        if credential is None:
            raise NotFound("No such user.")
        return credential.user_public

    @staticmethod
    def _open(user_key: UserKey, sealed: bytes, context: dict[str, str]) -> bytes:
        try:
            return open_sealed(user_key.private, sealed, context)
        except CryptoError as error:
            # Sealed to another user key: the password changed since this sign-in began.
            raise AuthenticationFailed("Sign in again.") from error
