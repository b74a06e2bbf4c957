"""The directory: states (with their public-key history and contact point) and their users."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import pycountry

from cases.kernel.errors import Conflict, InvalidInput, NotFound
from cases.kernel.ledger import Actor, SignedAggregate, stored_as
from cases.kernel.viewer import ANALYST, AUDITOR, REVIEWER, SECRETARIAT, STATE_ADMIN
from crypto import StatePublicKeys

NAMESPACE = UUID("5b0f7c52-8d1e-4c52-9a53-6d2b7f1f0e11")

# ISO 3166 leaves X** alpha-3 codes to users; this one can never be a real country.
SECRETARIAT_CODE = "XAT"
SECRETARIAT_NAME = "ATT Secretariat"

STATE_PARTY = "state_party"
SIGNATORY = "signatory"
ORGANISATION = "secretariat"
STATE_STATUSES = (STATE_PARTY, SIGNATORY)

STATE_ROLES = frozenset({ANALYST, REVIEWER, AUDITOR, STATE_ADMIN})
SECRETARIAT_ROLES = frozenset({SECRETARIAT, AUDITOR, STATE_ADMIN})

# Issue #8: these roles manage users and keys or read the whole log; a password alone is not
# enough for them. Any other user may enrol a second factor too.
SECOND_FACTOR_ROLES = frozenset({STATE_ADMIN, AUDITOR, SECRETARIAT})

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
MIN_PASSWORD_LENGTH = 12
# The UNIDIR ITI review found contact-point lists often outdated: a year unconfirmed is stale.
CONTACT_POINT_STALE_AFTER = timedelta(days=365)


def state_id(code: str) -> UUID:
    return uuid5(NAMESPACE, f"state:{code}")


def user_id(username: str) -> UUID:
    return uuid5(NAMESPACE, f"user:{username.lower()}")


def country_name(code: str) -> str:
    """The short English name of an ISO 3166-1 alpha-3 code; `InvalidInput` if unknown."""
    code = (code or "").strip().upper()
    if code == SECRETARIAT_CODE:
        return SECRETARIAT_NAME
    country = pycountry.countries.get(alpha_3=code) if len(code) == 3 else None
    if country is None:
        raise InvalidInput(
            "'%(code)s' is not an ISO 3166-1 alpha-3 country code (e.g. FRA, MEX).",
            field="code", code=code,
        )
    return country.name


def check_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not _USERNAME.match(name):
        raise InvalidInput(
            "A user name has 3 to 64 characters: letters, digits, '.', '_', '-' or '@', "
            "starting with a letter or digit.",
            field="username",
        )
    return name


def check_password(password: str, username: str) -> None:
    """Refuses passwords an attacker would guess first."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "The password must have at least %(least)s characters.",
            field="password", least=MIN_PASSWORD_LENGTH,
        )
    if username and username.lower() in password.lower():
        raise InvalidInput("The password must not contain the user name.", field="password")
    if len(set(password)) < 6:
        raise InvalidInput("The password repeats too few different characters.",
                           field="password")


def check_roles(roles: list[str] | set[str] | frozenset[str], state: str) -> list[str]:
    allowed = SECRETARIAT_ROLES if state == SECRETARIAT_CODE else STATE_ROLES
    chosen = sorted(set(roles))
    if not chosen:
        raise InvalidInput("Choose at least one role.", field="roles")
    wrong = [r for r in chosen if r not in allowed]
    if wrong:
        raise InvalidInput(
            "Role(s) %(wrong)s cannot be given here; allowed: %(allowed)s.",
            field="roles", wrong=", ".join(wrong), allowed=", ".join(sorted(allowed)),
        )
    return chosen


@stored_as("cases.directory")
class State(SignedAggregate):
    """A State Party, a signatory, or the secretariat, with every public key it ever had."""

    class Registered(SignedAggregate.Created):
        code: str
        name: str
        status: str
        public_keys: dict[str, Any]
        recovery_public: str

    def __init__(self, code: str, name: str, status: str, public_keys: dict[str, Any],
                 recovery_public: str) -> None:
        self.code = code
        self.name = name
        self.status = status
        # Set by the base initialiser from the Registered event's timestamp.
        self.key_history: list[dict[str, Any]] = [dict(public_keys, since=self.created_on)]
        self.recovery_public = recovery_public
        self.contact_point: dict[str, Any] | None = None
        self.log_keys: list[str] = []  # the secretariat's checkpoint keys, hex, oldest first
        self.subgroup_keys: list[str] = []  # keys the tier-1 policy facts are sealed to
        # Its witness's cosignature/v1 keys: {"version", "name", "public"}, oldest first.
        self.cosigning_keys: list[dict[str, Any]] = []
        self.suspended = False  # its users cannot sign in; nothing is deleted

    @classmethod
    def register(cls, actor: Actor, code: str, status: str, public: StatePublicKeys,
                 recovery_public: bytes) -> State:
        return cls._start(cls.Registered, state_id(code), actor, code=code,
                          name=country_name(code), status=status,
                          public_keys=public.to_dict(), recovery_public=recovery_public.hex())

    class KeysRotated(SignedAggregate.Event):
        public_keys: dict[str, Any]

        def apply(self, state: State) -> None:
            state.key_history.append(dict(self.public_keys, since=self.timestamp))

    def rotate_keys(self, actor: Actor, public: StatePublicKeys) -> None:
        self._record(self.KeysRotated, actor, public_keys=public.to_dict())

    class StatusChanged(SignedAggregate.Event):
        """A signatory ratified (became a State Party), or the reverse."""

        status: str

        def apply(self, state: State) -> None:
            state.status = self.status

    def change_status(self, actor: Actor, status: str) -> None:
        if status == self.status:
            raise Conflict("%(code)s already has that status.", field="status", code=self.code)
        self._record(self.StatusChanged, actor, status=status)

    class Suspended(SignedAggregate.Event):
        def apply(self, state: State) -> None:
            state.suspended = True

    class Reinstated(SignedAggregate.Event):
        def apply(self, state: State) -> None:
            state.suspended = False

    def suspend(self, actor: Actor) -> None:
        if self.suspended:
            raise Conflict("The access of %(code)s is already suspended.", code=self.code)
        self._record(self.Suspended, actor)

    def reinstate(self, actor: Actor) -> None:
        if not self.suspended:
            raise Conflict("The access of %(code)s is not suspended.", code=self.code)
        self._record(self.Reinstated, actor)

    class LogKeyPublished(SignedAggregate.Event):
        """The secretariat names the key that signs the log's Merkle checkpoints."""

        log_key: str

        def apply(self, state: State) -> None:
            state.log_keys.append(self.log_key)

    def publish_log_key(self, actor: Actor, public: bytes) -> None:
        if self.code != SECRETARIAT_CODE:
            raise InvalidInput("Only the secretariat publishes a log key.", field="code")
        self._record(self.LogKeyPublished, actor, log_key=public.hex())

    class CosigningKeyPublished(SignedAggregate.Event):
        """Kept to read the log: its ``version`` field (the key version) was overwritten
        in the signed header by the event's own version, so the signature did not cover
        it. Published keys are now `CosigningKeyNamed` events."""

        version: int
        name: str
        public: str

        def apply(self, state: State) -> None:
            state.cosigning_keys.append({"version": self.version, "name": self.name,
                                         "public": self.public})

    class CosigningKeyNamed(SignedAggregate.Event):
        """The state names the key its witness cosigns checkpoints with (cosignature/v1),
        one per version of its keys; not its event-signing key."""

        key_version: int
        name: str
        public: str

        def apply(self, state: State) -> None:
            state.cosigning_keys.append({"version": self.key_version, "name": self.name,
                                         "public": self.public})

    def publish_cosigning_key(self, actor: Actor, version: int, name: str,
                              public: bytes) -> None:
        if self.code == SECRETARIAT_CODE:
            raise InvalidInput("The secretariat runs the log; it does not witness it.",
                               field="code")
        if self.cosigning_key(version) is not None:
            raise Conflict("%(code)s has published the cosigning key of its key version "
                           "%(version)s already.", code=self.code, version=version)
        self._record(self.CosigningKeyNamed, actor, key_version=version, name=name,
                     public=public.hex())

    def cosigning_key(self, version: int) -> dict[str, Any] | None:
        return next((k for k in self.cosigning_keys if k["version"] == version), None)

    class SubgroupKeyPublished(SignedAggregate.Event):
        """The secretariat names the key the WGETI subgroup's summaries are built with."""

        subgroup_key: str

        def apply(self, state: State) -> None:
            state.subgroup_keys.append(self.subgroup_key)

    def publish_subgroup_key(self, actor: Actor, public: bytes) -> None:
        if self.code != SECRETARIAT_CODE:
            raise InvalidInput("Only the secretariat publishes the subgroup key.", field="code")
        self._record(self.SubgroupKeyPublished, actor, subgroup_key=public.hex())

    class ContactPointSet(SignedAggregate.Event):
        contact_point: dict[str, Any]

        def apply(self, state: State) -> None:
            state.contact_point = dict(self.contact_point, confirmed_on=self.timestamp)

    def set_contact_point(self, actor: Actor, contact_point: dict[str, Any]) -> None:
        self._record(self.ContactPointSet, actor, contact_point=contact_point)

    class ContactPointConfirmed(SignedAggregate.Event):
        def apply(self, state: State) -> None:
            assert state.contact_point is not None
            state.contact_point["confirmed_on"] = self.timestamp

    def confirm_contact_point(self, actor: Actor) -> None:
        """Records that the contact point was checked and is still right."""
        if self.contact_point is None:
            raise NotFound("%(code)s has no contact point to confirm yet.", code=self.code)
        self._record(self.ContactPointConfirmed, actor)

    def contact_point_is_stale(self, now: datetime) -> bool:
        return (self.contact_point is None
                or now - self.contact_point["confirmed_on"] > CONTACT_POINT_STALE_AFTER)

    @property
    def public_keys(self) -> StatePublicKeys:
        """The state's current public keys."""
        return StatePublicKeys.from_dict(self.key_history[-1])

    def public_keys_at(self, version: int) -> StatePublicKeys:
        for entry in self.key_history:
            if entry["version"] == version:
                return StatePublicKeys.from_dict(entry)
        raise NotFound("%(code)s has no key version %(version)s.", code=self.code,
                       version=version)

    def keys_valid_at(self, moment: datetime) -> StatePublicKeys:
        """The public keys the state had at a given moment (for verifying old signatures)."""
        valid = [e for e in self.key_history if e["since"] <= moment]
        if not valid:
            raise NotFound("%(code)s had no keys at %(moment)s.", code=self.code,
                           moment=moment.isoformat())
        return StatePublicKeys.from_dict(valid[-1])


@stored_as("cases.directory")
class User(SignedAggregate):
    """A person of one state with roles; their keys are in the keystore, not here."""

    language = ""  # the interface language the user chose ("": none yet); a class default
    # so that users recorded before the choice existed read as "none yet"

    class Added(SignedAggregate.Created):
        username: str
        state: str
        roles: list[str]
        display_name: str
        public_key: str

    def __init__(self, username: str, state: str, roles: list[str], display_name: str,
                 public_key: str) -> None:
        self.username = username
        self.state = state
        self.roles = list(roles)
        self.display_name = display_name
        self.public_key = public_key
        self.active = True
        # API tokens in force: id -> {"name", "roles", "expires" (ISO date)}; no secrets.
        self.api_tokens: dict[str, dict[str, Any]] = {}
        self.second_factor = False  # enrolled; the secret itself is in the keystore
        self.second_factor_since: datetime | None = None  # when it was enrolled
        self.recovery_codes_left = 0

    @property
    def needs_second_factor(self) -> bool:
        """True for roles that may not sign in without one (`SECOND_FACTOR_ROLES`)."""
        return bool(SECOND_FACTOR_ROLES & set(self.roles))

    @classmethod
    def add(cls, actor: Actor, username: str, state: str, roles: list[str], display_name: str,
            public_key: bytes) -> User:
        return cls._start(cls.Added, user_id(username), actor, username=username, state=state,
                          roles=roles, display_name=display_name, public_key=public_key.hex())

    class PasswordChanged(SignedAggregate.Event):
        public_key: str

        def apply(self, user: User) -> None:
            user.public_key = self.public_key
            user.api_tokens = {}  # each sealed the old user key: they die with the password

    def change_password(self, actor: Actor, public_key: bytes) -> None:
        """Records a new password (and, after a recovery, a new user key)."""
        self._record(self.PasswordChanged, actor, public_key=public_key.hex())

    class RolesChanged(SignedAggregate.Event):
        roles: list[str]

        def apply(self, user: User) -> None:
            user.roles = list(self.roles)

    def change_roles(self, actor: Actor, roles: list[str]) -> None:
        self._record(self.RolesChanged, actor, roles=roles)

    class LanguageChosen(SignedAggregate.Event):
        language: str

        def apply(self, user: User) -> None:
            user.language = self.language

    def choose_language(self, actor: Actor, language: str) -> None:
        self._record(self.LanguageChosen, actor, language=language)

    class Deactivated(SignedAggregate.Event):
        def apply(self, user: User) -> None:
            user.active = False
            user.api_tokens = {}

    def deactivate(self, actor: Actor) -> None:
        self._record(self.Deactivated, actor)

    class Reactivated(SignedAggregate.Event):
        """Back with a new password (hence a new user key: `PasswordChanged` follows)."""

        def apply(self, user: User) -> None:
            user.active = True

    def reactivate(self, actor: Actor) -> None:
        self._record(self.Reactivated, actor)

    class ApiTokenIssued(SignedAggregate.Event):
        token_id: str
        name: str
        roles: list[str]
        expires: str

        def apply(self, user: User) -> None:
            user.api_tokens[self.token_id] = {"name": self.name, "roles": list(self.roles),
                                              "expires": self.expires,
                                              "issued": self.timestamp.isoformat()}

    def issue_api_token(self, actor: Actor, token_id: str, name: str, roles: list[str],
                        expires: str) -> None:
        self._record(self.ApiTokenIssued, actor, token_id=token_id, name=name, roles=roles,
                     expires=expires)

    class ApiTokenRevoked(SignedAggregate.Event):
        token_id: str

        def apply(self, user: User) -> None:
            user.api_tokens.pop(self.token_id, None)

    def revoke_api_token(self, actor: Actor, token_id: str) -> None:
        self._record(self.ApiTokenRevoked, actor, token_id=token_id)
    class SecondFactorEnrolled(SignedAggregate.Event):
        """The user confirmed an authenticator app with a valid code. The secret is sealed
        in the keystore, never in the log."""

        def apply(self, user: User) -> None:
            user.second_factor = True
            user.second_factor_since = self.timestamp

    def enrol_second_factor(self, actor: Actor) -> None:
        if self.second_factor:
            raise Conflict("A second factor is already set up for this account.")
        self._record(self.SecondFactorEnrolled, actor)

    class SignedInFromNewPlace(SignedAggregate.Event):
        """The user signed in from a network their sign-ins never came from before (the
        network itself is not recorded here), so they are told in their inbox."""

    def signed_in_from_new_place(self, actor: Actor) -> None:
        self._record(self.SignedInFromNewPlace, actor)

    class SecondFactorReset(SignedAggregate.Event):
        """The second factor and its recovery codes were removed; ``reason`` is
        ``admin_reset`` or ``account_recovered`` (the old user key, which opened it, is gone)."""

        reason: str

        def apply(self, user: User) -> None:
            user.second_factor = False
            user.second_factor_since = None
            user.recovery_codes_left = 0

    def reset_second_factor(self, actor: Actor, reason: str) -> None:
        if not self.second_factor:
            raise Conflict("%(name)s has no second factor to reset.", name=self.username)
        self._record(self.SecondFactorReset, actor, reason=reason)

    class RecoveryCodesIssued(SignedAggregate.Event):
        """A new set of single-use recovery codes; any older set no longer works."""

        count: int

        def apply(self, user: User) -> None:
            user.recovery_codes_left = self.count

    def issue_recovery_codes(self, actor: Actor, count: int) -> None:
        if not self.second_factor:
            raise Conflict("Set up a second factor first.")
        self._record(self.RecoveryCodesIssued, actor, count=count)

    class RecoveryCodeUsed(SignedAggregate.Event):
        def apply(self, user: User) -> None:
            user.recovery_codes_left -= 1

    def use_recovery_code(self, actor: Actor) -> None:
        self._record(self.RecoveryCodeUsed, actor)
