"""Directory commands and queries, with the rules on who may do what to states and users."""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from cases.identity.accounts import Unlocked
from cases.identity.directory import (
    ORGANISATION,
    SECRETARIAT_CODE,
    STATE_STATUSES,
    State,
    User,
    check_password,
    check_roles,
    check_username,
    country_name,
    state_id,
    user_id,
)
from cases.identity.directory_cache import DirectoryCache
from cases.identity.lockout import COMMAND_LINE, Failure, Lockout
from cases.identity.second_factor_service import SecondFactors
from cases.kernel.errors import (
    AuthenticationFailed,
    Busy,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)
from cases.kernel.keystore import Credential, KeyStore
from cases.kernel.ledger import Actor, Ledger
from cases.kernel.viewer import SECRETARIAT, STATE_ADMIN, Viewer
from cases.search.index import reseal_saved_searches
from crypto import (
    CryptoError,
    DerivationsBusy,
    KdfParams,
    Keyring,
    StateKeyPair,
    UserKey,
    open_sealed,
    open_with_password,
    recovery_private_key,
    seal_to,
    seal_with_password,
)


def _keyring_context(state: str, user: str) -> dict[str, str]:
    return {"purpose": "divex-keyring", "state": state, "user": user}


def _recovery_context(state: str) -> dict[str, str]:
    return {"purpose": "divex-keyring-recovery", "state": state}


@contextlib.contextmanager
def _password_work() -> Iterator[None]:
    """Turns a full queue of password derivations into a refusal to retry shortly."""
    try:
        yield
    except DerivationsBusy as busy:
        raise Busy("Too many people are signing in at this moment. Try again in a few "
                   "seconds.", retry_after=busy.retry_after) from None


def format_recovery_secret(secret: bytes) -> str:
    text = base64.b32encode(secret).decode().rstrip("=")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def parse_recovery_secret(text: str) -> bytes:
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    try:
        secret = base64.b32decode(compact + "=" * (-len(compact) % 8))
    except ValueError:
        secret = b""
    if len(secret) != 32:
        raise InvalidInput("That is not a recovery secret as divex prints them.",
                           field="recovery_secret")
    return secret


class Directory:
    """States, users and their keys. Every command is signed by the acting viewer's state."""

    def __init__(self, ledger: Ledger, keystore: KeyStore, kdf: KdfParams,
                 log_key: bytes | None = None, subgroup_key: bytes | None = None) -> None:
        """``log_key`` (checkpoint process) and ``subgroup_key`` (policy summaries) are public
        keys the secretariat publishes at `initialise`."""
        self.ledger = ledger
        self.keystore = keystore
        self.kdf = kdf
        self.log_key = log_key
        self.subgroup_key = subgroup_key
        self.lockout = Lockout(keystore.engine)
        self.cache = DirectoryCache(ledger, (State, User), self._load)
        self.second_factors = SecondFactors(self)
        # Authenticating an unknown user still costs one KDF run: no timing oracle on names.
        self._decoy = seal_with_password("decoy-password", b"", kdf)

    # Queries

    def is_initialised(self) -> bool:
        return self.find(state_id(SECRETARIAT_CODE)) is not None

    def state(self, code: str) -> State:
        found = self.find(state_id((code or "").strip().upper()))
        if not isinstance(found, State):
            raise NotFound("No state with code '%(code)s' is registered.", field="code",
                           code=code)
        return found

    def user(self, username: str) -> User:
        found = self.find(user_id(username or ""))
        if not isinstance(found, User):
            raise NotFound("No user named '%(name)s'.", field="username", name=username)
        return found

    def states(self) -> list[State]:
        """Every registered state, secretariat included, ordered by code."""
        return sorted(self.cache.all_of(State), key=lambda s: s.code)

    def users_of_state(self, code: str) -> list[User]:
        with self.ledger.transaction() as session:
            held = self.keystore.credentials_of_state(session, code)
        return sorted((self.ledger.repository.get(UUID(c.user_id)) for c in held),
                      key=lambda u: u.username)

    # Commands

    def initialise(self, username: str, password: str, display_name: str = "") -> str:
        """Creates the secretariat and its first user; returns its one-time recovery secret."""
        if self.is_initialised():
            raise Conflict("divex is already initialised: the secretariat exists.")
        keyring = Keyring([StateKeyPair.generate(1)])
        actor = Actor(state=SECRETARIAT_CODE, user=str(user_id(check_username(username))),
                      keys=keyring.current)
        return self._register(actor, SECRETARIAT_CODE, ORGANISATION, keyring, username,
                              password, [SECRETARIAT, STATE_ADMIN], display_name)

    def create_state(self, viewer: Viewer, code: str, status: str, admin_username: str,
                     admin_password: str, admin_display_name: str = "") -> str:
        """Registers a state with fresh keys and its first state admin.

        Returns the state's one-time recovery secret, which opens its keyring if every
        password is lost; it is shown once and stored nowhere.
        """
        self._require(viewer, SECRETARIAT, Forbidden("Only the secretariat registers states."))
        code = (code or "").strip().upper()
        country_name(code)
        if code == SECRETARIAT_CODE:
            raise InvalidInput("That code is reserved for the secretariat.", field="code")
        if status not in STATE_STATUSES:
            raise InvalidInput("Status must be one of %(choices)s.", field="status",
                               choices=", ".join(STATE_STATUSES))
        if self.find(state_id(code)) is not None:
            raise Conflict("%(code)s is already registered.", field="code", code=code)
        keyring = Keyring([StateKeyPair.generate(1)])
        return self._register(viewer.actor, code, status, keyring, admin_username,
                              admin_password, [STATE_ADMIN], admin_display_name)

    def add_user(self, viewer: Viewer, username: str, password: str, roles: list[str],
                 display_name: str = "") -> User:
        """A state admin adds a user to their own state and hands them the state keyring."""
        self._require(viewer, STATE_ADMIN, Forbidden("Only a state admin adds users."))
        user, credential = self._new_user(viewer.actor, viewer.state, viewer.keyring, username,
                                          password, roles, display_name)
        with self.ledger.transaction() as session:
            self.ledger.save(user)
            self.keystore.put_credential(session, credential)
        return user

    def authenticate(self, username: str, password: str,
                     address: str = COMMAND_LINE) -> Viewer:
        """Checks the password and returns the viewer with the state keyring unlocked.

        Password only: for the command line, run on the server itself. The web sign-in asks
        for the second factor after `unlock` (web/auth.py).
        """
        unlocked = self.unlock(username, password, address)
        self.lockout.succeeded(unlocked.user.username, address)
        return unlocked.viewer

    def unlock(self, username: str, password: str, address: str = COMMAND_LINE) -> Unlocked:
        """Checks the password and opens the user's key and their state's keyring.

        Wrong passwords (and second-factor codes) slow further tries at the user name, from
        the client's ``address`` and from anywhere (`cases.identity.lockout`). For a user with
        a second factor a right password does not clear the count: only a right code does,
        else a thief of the password could guess codes forever.
        """
        name = (username or "").strip().lower()[:64]
        try:
            check_username(username)
        except InvalidInput:
            # No user has such a name, and some (a NUL) cannot even be looked up in
            # PostgreSQL: refused at the cost of a wrong password, without a lookup.
            self._burn_kdf(password)
            raise AuthenticationFailed("Wrong user name or password.") from None
        self.lockout.check(name, address)
        found = self.find(user_id(username or ""))
        with self.ledger.transaction() as session:
            credential = self.keystore.credential(session, str(user_id(username or "")))
        if not isinstance(found, User) or not found.active or credential is None:
            self._burn_kdf(password)
            self.lockout.failed(name, address)
            raise AuthenticationFailed("Wrong user name or password.")
        try:
            with _password_work():
                own = UserKey.from_bytes(open_with_password(password, credential.private_sealed))
        except CryptoError as error:
            self.lockout.failed(name, address)
            raise AuthenticationFailed("Wrong user name or password.") from error
        unlocked = self._open_keyring(found, own, credential)
        if not found.second_factor:
            self.lockout.succeeded(name, address)
        return unlocked

    def failed_sign_ins(self, viewer: Viewer, *, unseen_only: bool = False) -> list[Failure]:
        """Wrong passwords and codes tried at the viewer's own account in the last 30 days,
        newest first; ``unseen_only``: those they were not told of yet (now told)."""
        if unseen_only:
            return self.lockout.unseen(viewer.username)
        return self.lockout.recent(viewer.username)

    def resume(self, username: str, user_key: bytes) -> Unlocked:
        """The `Unlocked` of a sign-in that is waiting for its second step, rebuilt from the
        user key it holds; refused if the user was deactivated or changed password since."""
        return self.resume_by_id(user_id(username or ""), user_key)

    def resume_by_id(self, uid: UUID, user_key: bytes) -> Unlocked:
        """`resume` for a user known by id (an API token holds the id, not the name)."""
        found = self.find(uid)
        with self.ledger.transaction() as session:
            credential = self.keystore.credential(session, str(uid))
        try:
            own = UserKey.from_bytes(user_key)
        except CryptoError:
            own = None
        if (not isinstance(found, User) or not found.active or credential is None
                or own is None or own.public_bytes != credential.user_public):
            raise AuthenticationFailed("Sign in again.")
        return self._open_keyring(found, own, credential)

    def _open_keyring(self, user: User, own: UserKey, credential: Credential) -> Unlocked:
        if self.state(user.state).suspended:
            raise AuthenticationFailed("The access of %(code)s to the exchange is suspended; "
                                       "ask the secretariat.", code=user.state)
        try:
            keyring = Keyring.from_bytes(open_sealed(
                own.private, credential.keyring_sealed,
                _keyring_context(user.state, str(user.id))))
        except CryptoError as error:  # a damaged credential, not a guess: nothing to count
            raise AuthenticationFailed("Wrong user name or password.") from error
        return Unlocked(user, own, keyring)

    def change_password(self, viewer: Viewer, old_password: str, new_password: str,
                        address: str = COMMAND_LINE) -> None:
        # The stored keyring, not the session's: another admin may have rotated keys since.
        current = self.unlock(viewer.username, old_password, address)
        check_password(new_password, viewer.username)
        user = self.user(viewer.username)
        own = UserKey.generate()
        user.change_password(current.viewer.actor, own.public_bytes)
        self._store_user_keys(user, own, current.keyring, new_password, current.user_key)

    def recover_with_secret(self, code: str, recovery_secret: str, username: str,
                            new_password: str) -> None:
        """Sets a new password for a user of a state from the state's recovery secret."""
        state = self.state(code)
        user = self.user(username)
        if not user.active:
            raise Conflict("%(name)s is deactivated.", field="username", name=user.username)
        if user.state != state.code:
            raise Forbidden("%(name)s is not a user of %(code)s.", field="username",
                            name=username, code=state.code)
        check_password(new_password, user.username)
        private = recovery_private_key(parse_recovery_secret(recovery_secret))
        with self.ledger.transaction() as session:
            sealed = self.keystore.recovery_keyring(session, state.code)
        try:
            keyring = Keyring.from_bytes(
                open_sealed(private, sealed or b"", _recovery_context(state.code)))
        except CryptoError as error:
            raise AuthenticationFailed("That recovery secret does not open this state's keys.",
                                       field="recovery_secret") from error
        own = UserKey.generate()
        actor = Actor(state.code, str(user.id), keyring.current)
        if user.second_factor:
            # It was sealed to the user key this recovery replaces: nothing can open it now.
            user.reset_second_factor(actor, "account_recovered")
        user.change_password(actor, own.public_bytes)
        self._store_user_keys(user, own, keyring, new_password)

    def signed_in_from_new_place(self, viewer: Viewer) -> None:
        user = self.user(viewer.username)
        user.signed_in_from_new_place(viewer.actor)
        self.ledger.save(user)

    def choose_language(self, viewer: Viewer, language: str) -> None:
        """Keeps the user's interface language with the user (an event only on a change)."""
        user = self.user(viewer.username)
        if user.language != language:
            user.choose_language(viewer.actor, language)
            self.ledger.save(user)

    def deactivate_user(self, viewer: Viewer, username: str) -> None:
        self._require(viewer, STATE_ADMIN, Forbidden("Only a state admin deactivates users."))
        user = self.user(username)
        if user.state != viewer.state:
            raise NotFound("No user named '%(name)s'.", field="username", name=username)
        if str(user.id) == viewer.user_id:
            raise Conflict("You cannot deactivate your own account.", field="username")
        if not user.active:
            raise Conflict("%(name)s is already deactivated.", field="username",
                           name=user.username)
        user.deactivate(viewer.actor)
        with self.ledger.transaction() as session:
            self.ledger.save(user)
            self.keystore.drop_credential(session, str(user.id))
            self.keystore.drop_api_tokens(session, str(user.id))
            self.keystore.drop_second_factor(session, str(user.id))

    def rotate_state_keys(self, viewer: Viewer) -> Viewer:
        """Adds a new key version, re-seals the keyring for every active user and recovery.

        Returns the viewer holding the rotated keyring.
        """
        self._require(viewer, STATE_ADMIN,
                      Forbidden("Only a state admin rotates the state's keys."))
        state = self.state(viewer.state)
        keyring = viewer.keyring.rotated()
        state.rotate_keys(viewer.actor, keyring.current.public())
        with self.ledger.transaction() as session:
            self.ledger.save(state)
            for held in self.keystore.credentials_of_state(session, state.code):
                self.keystore.put_credential(session, Credential(
                    user_id=held.user_id, state=held.state, user_public=held.user_public,
                    private_sealed=held.private_sealed,
                    keyring_sealed=seal_to(held.user_public, keyring.to_bytes(),
                                           _keyring_context(state.code, held.user_id))))
            self.keystore.put_recovery_keyring(session, state.code, seal_to(
                bytes.fromhex(state.recovery_public), keyring.to_bytes(),
                _recovery_context(state.code)))
        return Viewer(viewer.user_id, viewer.username, viewer.state, viewer.roles, keyring,
                      viewer.own_key)

    def set_contact_point(self, viewer: Viewer, *, name: str, office: str, channel: str,
                          volunteers_to_assist: bool) -> None:
        self._require(viewer, STATE_ADMIN,
                      Forbidden("Only a state admin updates the contact point."))
        entry = {"name": name.strip(), "office": office.strip(), "channel": channel.strip(),
                 "volunteers_to_assist": bool(volunteers_to_assist)}
        if not entry["name"]:
            raise InvalidInput("The contact point needs a name.", field="name")
        if not entry["channel"]:
            raise InvalidInput("The contact point needs a channel.", field="channel")
        for name in ("name", "office", "channel"):
            if len(entry[name]) > 200:
                raise InvalidInput("At most %(limit)s characters.", field=name, limit=200)
        state = self.state(viewer.state)
        state.set_contact_point(viewer.actor, entry)
        self.ledger.save_all(state)

    def publish_cosigning_key(self, viewer: Viewer, version: int, name: str,
                              public: bytes) -> None:
        """Records the viewer's state's witness key for one of its key versions (any user of
        the state: its witness cosigns at each sign-in). Two at once: one is recorded."""
        state = self.state(viewer.state)
        if state.cosigning_key(version) is not None:
            return
        state.publish_cosigning_key(viewer.actor, version, name, public)
        try:
            self.ledger.save_all(state)
        except Conflict:
            if self.state(viewer.state).cosigning_key(version) is None:
                raise

    def confirm_contact_point(self, viewer: Viewer) -> None:
        self._require(viewer, STATE_ADMIN,
                      Forbidden("Only a state admin confirms the contact point."))
        state = self.state(viewer.state)
        state.confirm_contact_point(viewer.actor)
        self.ledger.save_all(state)

    # Helpers

    def _register(self, actor: Actor, code: str, status: str, keyring: Keyring,
                  username: str, password: str, roles: list[str], display_name: str) -> str:
        secret = os.urandom(32)
        recovery_public = UserKey(recovery_private_key(secret)).public_bytes
        state = State.register(actor, code, status, keyring.current.public(), recovery_public)
        if code == SECRETARIAT_CODE and self.log_key:
            state.publish_log_key(actor, self.log_key)
        if code == SECRETARIAT_CODE and self.subgroup_key:
            state.publish_subgroup_key(actor, self.subgroup_key)
        user, credential = self._new_user(actor, code, keyring, username, password, roles,
                                          display_name)
        with self.ledger.transaction() as session:
            self.ledger.save(state, user)
            self.keystore.put_credential(session, credential)
            self.keystore.put_recovery_keyring(session, code, seal_to(
                recovery_public, keyring.to_bytes(), _recovery_context(code)))
        return format_recovery_secret(secret)

    def _new_user(self, actor: Actor, state: str, keyring: Keyring, username: str,
                  password: str, roles: list[str], display_name: str,
                  ) -> tuple[User, Credential]:
        username = check_username(username)
        check_password(password, username)
        roles = check_roles(roles, state)
        if self.find(user_id(username)) is not None:
            raise Conflict("The user name '%(name)s' is taken.", field="username",
                           name=username)
        own = UserKey.generate()
        user = User.add(actor, username, state, roles, (display_name or username).strip(),
                        own.public_bytes)
        return user, self._credential(user, own, keyring, password)

    def _credential(self, user: User, own: UserKey, keyring: Keyring,
                    password: str) -> Credential:
        with _password_work():
            private_sealed = seal_with_password(password, own.to_bytes(), self.kdf)
        return Credential(
            user_id=str(user.id), state=user.state, user_public=own.public_bytes,
            private_sealed=private_sealed,
            keyring_sealed=seal_to(own.public_bytes, keyring.to_bytes(),
                                   _keyring_context(user.state, str(user.id))))

    def _store_user_keys(self, user: User, own: UserKey, keyring: Keyring,
                         password: str, old_key: UserKey | None = None) -> None:
        """Stores a new user key; the second factor and the saved searches, sealed to the old
        one, are re-sealed with ``old_key`` or, without it, dropped."""
        with self.ledger.transaction() as session:
            self.ledger.save(user)
            self.keystore.put_credential(session, self._credential(user, own, keyring, password))
            self.keystore.drop_api_tokens(session, str(user.id))
            if old_key is None:
                self.keystore.drop_second_factor(session, str(user.id))
            else:
                self.second_factors.reseal(session, str(user.id), old_key, own.public_bytes)
            reseal_saved_searches(session, str(user.id), old_key, own.public_bytes)

    def find(self, aggregate_id: Any) -> Any:
        """The aggregate of that id (a state or a user), or None; a copy of the one this
        process keeps (`DirectoryCache`)."""
        return self.cache.get(UUID(str(aggregate_id)))

    def _load(self, aggregate_id: UUID) -> Any:
        try:
            return self.ledger.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def _burn_kdf(self, password: str) -> None:
        with _password_work(), contextlib.suppress(CryptoError):
            open_with_password(password or "", self._decoy)

    @staticmethod
    def _require(viewer: Viewer, role: str, refusal: Forbidden) -> None:
        if not viewer.has(role):
            raise refusal
