"""Onboarding and administration: registering states and inviting users, with who may.

The secretariat registers a state by inviting its first admin; the state's keys are made
when that admin accepts, in that request, and sealed to the admin's own password-derived
key, so the secretariat never holds them. A state admin invites users of their own state:
the state keyring travels sealed to a key derived from the invitation's code
(`crypto.invitation`) and is re-sealed to the new user's own key on acceptance, when the
invitation's copy is deleted. The admin never learns the user's password.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from cases.identity.administration import Administration
from cases.identity.directory import (
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
from cases.identity.directory_service import (
    Directory,
    Unlocked,
    _recovery_context,
    format_recovery_secret,
    parse_recovery_secret,
)
from cases.identity.invitation_store import InvitationStore, PendingInvitation
from cases.identity.invitations import (
    BY_SECRETARIAT,
    FIRST_ADMIN,
    PENDING,
    REACTIVATE,
    READMIT,
    USER,
    Invitation,
)
from cases.kernel.errors import AuthenticationFailed, Conflict, Forbidden, InvalidInput, NotFound
from cases.kernel.keystore import Credential
from cases.kernel.ledger import Actor
from cases.kernel.viewer import SECRETARIAT, STATE_ADMIN, Viewer
from crypto import (
    CryptoError,
    Keyring,
    StateKeyPair,
    UserKey,
    open_sealed,
    recovery_private_key,
    seal_to,
)
from crypto.invitation import InvitationCode

DEFAULT_INVITATION_DAYS = 7


def _invitation_context(state: str, invitation_id: str) -> dict[str, str]:
    return {"purpose": "divex-invitation-keyring", "state": state,
            "invitation": invitation_id}


@dataclass(frozen=True)
class Issued:
    """A new invitation and its code, to be shown once and sent out of band."""

    invitation: Invitation
    code: str


@dataclass(frozen=True)
class Welcome:
    """An accepted invitation: the new user, unlocked as after a right password, and for a
    state's first admin the state's recovery secret (shown once, stored nowhere)."""

    unlocked: Unlocked
    recovery_secret: str | None = None


class Onboarding(Administration):
    """Registers states and invites, admits and manages users; lives beside the `Directory`."""

    def __init__(self, directory: Directory, invitation_days: int = DEFAULT_INVITATION_DAYS,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.directory = directory
        self.ledger = directory.ledger
        self.keystore = directory.keystore
        self.store = InvitationStore(directory.keystore.engine)
        self.invitation_days = invitation_days
        self.clock = clock

    # Queries

    def invitation(self, invitation_id: UUID | str) -> Invitation:
        return self.ledger.get_as(Invitation, invitation_id, NotFound("No such invitation."))

    def invitations(self, viewer: Viewer) -> list[Invitation]:
        """The invitations this viewer manages, newest first: a state admin's, into their
        state; the secretariat's, every state's first admin too."""
        if not (viewer.has(STATE_ADMIN) or viewer.has(SECRETARIAT)):
            raise Forbidden("Only a state admin manages invitations.")
        found = [i for i in self._all_invitations() if self._manages(viewer, i)]
        return sorted(found, key=lambda i: i.created_on, reverse=True)

    def is_open(self, invitation: Invitation) -> bool:
        return invitation.is_open(self.clock())

    # Commands: invitations

    def register_state(self, viewer: Viewer, code: str, status: str, admin_username: str,
                       display_name: str = "") -> Issued:
        """The secretariat registers a state by inviting its first admin."""
        self._require(viewer, SECRETARIAT, Forbidden("Only the secretariat registers states."))
        code = (code or "").strip().upper()
        country_name(code)
        if code == SECRETARIAT_CODE:
            raise InvalidInput("That code is reserved for the secretariat.", field="code")
        if status not in STATE_STATUSES:
            raise InvalidInput("Status must be one of %(choices)s.", field="status",
                               choices=", ".join(STATE_STATUSES))
        if self.directory.find(state_id(code)) is not None:
            raise Conflict("%(code)s is already registered.", field="code", code=code)
        if any(i.kind == FIRST_ADMIN and i.state == code and self.is_open(i)
               for i in self._all_invitations()):
            raise Conflict("%(code)s already has a pending invitation; revoke it first to "
                           "invite someone else.", field="code", code=code)
        return self._issue(viewer, code, FIRST_ADMIN, admin_username, [STATE_ADMIN],
                           display_name, status, None)

    def reinvite_state_admin(self, viewer: Viewer, code: str, username: str,
                             display_name: str = "") -> Issued:
        """The secretariat invites a new state admin for a state that has lost all of its
        admins. No keyring travels with this invitation: the invitee opens the state's keys
        with its recovery secret, which the secretariat never had."""
        # Its old admins' accounts may still be active (people leave, passwords are lost):
        # the recovery secret, which only the state holds, is what guards this way in.
        state = self._member_state(viewer, code)
        if any(i.kind == READMIT and i.state == state.code and self.is_open(i)
               for i in self._all_invitations()):
            raise Conflict("%(code)s already has a pending invitation; revoke it first to "
                           "invite someone else.", field="code", code=state.code)
        return self._issue(viewer, state.code, READMIT, username, [STATE_ADMIN], display_name,
                           "", None)

    def invite_user(self, viewer: Viewer, username: str, roles: list[str],
                    display_name: str = "") -> Issued:
        """A state admin invites a user of their own state; the keyring travels sealed to
        the invitation's code."""
        self._require(viewer, STATE_ADMIN, Forbidden("Only a state admin invites users."))
        chosen = check_roles(roles, viewer.state)
        return self._issue(viewer, viewer.state, USER, username, chosen, display_name, "",
                           viewer.keyring)

    def reactivate(self, viewer: Viewer, username: str) -> Issued:
        """A state admin invites a deactivated user of their state back: accepting sets a
        new password (their old key was deleted with the deactivation)."""
        user = self._user_of_my_state(viewer, username,
                                      Forbidden("Only a state admin reactivates users."))
        if user.active:
            raise Conflict("%(name)s is active.", field="username", name=user.username)
        if any(i.username == user.username and self.is_open(i)
               for i in self._all_invitations()):
            raise Conflict("%(name)s already has a pending invitation.", field="username",
                           name=user.username)
        return self._issue(viewer, viewer.state, REACTIVATE, user.username, list(user.roles),
                           user.display_name, "", viewer.keyring, existing=True)

    def revoke(self, viewer: Viewer, invitation_id: UUID | str) -> Invitation:
        invitation = self._managed(viewer, invitation_id)
        invitation.revoke(viewer.actor)
        with self.ledger.transaction() as session:
            self.ledger.save(invitation)
            self.store.drop(session, str(invitation.id))
        return invitation

    def expire_overdue(self, viewer: Viewer) -> int:
        """Records the expiry of this viewer's pending invitations past their date, and
        deletes what they carried; returns how many."""
        now, done = self.clock(), 0
        for invitation in self.invitations(viewer):
            if invitation.status == PENDING and not invitation.is_open(now):
                invitation.expire(viewer.actor)
                with self.ledger.transaction() as session:
                    self.ledger.save(invitation)
                    self.store.drop(session, str(invitation.id))
                done += 1
        return done

    def accept(self, code_text: str, username: str, password: str,
               display_name: str = "", recovery_secret: str = "") -> Welcome:
        """The invitee sets their password: the user is created (and for a first admin the
        state with fresh keys); the invitation is used up. Nothing is stored on refusal."""
        try:
            code = InvitationCode.parse(code_text)
        except CryptoError:
            raise InvalidInput("That is not an invitation code as divex prints them.",
                               field="code") from None
        try:
            invitation = self.invitation(code.invitation_id)
        except NotFound:
            raise NotFound("This invitation code is not right. Check it, or ask for a new "
                           "one.", field="code") from None
        invitation.refuse_unless_open(self.clock())
        with self.ledger.transaction() as session:
            row = self.store.get(session, str(invitation.id))
        if row is None:  # closed since we read it (a revocation racing us): say how
            self.invitation(invitation.id).refuse_unless_open(self.clock())
        if row is None or not code.matches(row.digest):
            raise NotFound("This invitation code is not right. Check it, or ask for a new "
                           "one.", field="code")
        name = check_username(username or invitation.username)
        if name != invitation.username:
            raise InvalidInput("This invitation is for another user name. Use the one you "
                               "were given.", field="username")
        check_password(password, name)
        self._refuse_unless_issuer_may_still_invite(invitation)
        if invitation.kind != FIRST_ADMIN and self.directory.state(invitation.state).suspended:
            raise Conflict("The access of %(code)s to the exchange is suspended; ask the "
                           "secretariat.", field="code", code=invitation.state)
        if invitation.kind == FIRST_ADMIN:
            return self._admit_first_admin(invitation, password, display_name)
        if invitation.kind == READMIT:
            return self._readmit_admin(invitation, recovery_secret, password, display_name)
        return self._admit_user(invitation, row, code, password, display_name)

    def _readmit_admin(self, invitation: Invitation, recovery_secret: str, password: str,
                       display_name: str) -> Welcome:
        secret = parse_recovery_secret(recovery_secret or "")
        with self.ledger.transaction() as session:
            sealed = self.keystore.recovery_keyring(session, invitation.state)
        try:
            keyring = Keyring.from_bytes(open_sealed(
                recovery_private_key(secret), sealed or b"",
                _recovery_context(invitation.state)))
        except CryptoError:
            raise AuthenticationFailed("That recovery secret does not open this state's keys.",
                                       field="recovery_secret") from None
        actor = Actor(state=invitation.state, user=str(user_id(invitation.username)),
                      keys=keyring.current)
        unlocked, credential = self._new_user(actor, invitation, keyring, password,
                                              display_name)
        invitation.accept(actor, self.clock())
        with self.ledger.transaction() as session:
            self.ledger.save(unlocked.user, invitation)
            self.keystore.put_credential(session, credential)
            self.store.drop(session, str(invitation.id))
        return Welcome(unlocked)

    def _open_keyring(self, invitation: Invitation, row: PendingInvitation,
                      code: InvitationCode) -> Keyring:
        try:
            keyring = Keyring.from_bytes(open_sealed(
                code.key.private, row.keyring_sealed or b"",
                _invitation_context(invitation.state, str(invitation.id))))
        except CryptoError:
            raise NotFound("This invitation code is not right. Check it, or ask for a new "
                           "one.", field="code") from None
        if keyring.current.version != self.directory.state(invitation.state).public_keys.version:
            raise Conflict("The state's keys changed after this invitation was issued. Ask "
                           "your state admin for a new one.", field="code")
        return keyring

    # Commands: users and keys

    def rotate_keys(self, viewer: Viewer) -> Viewer:
        """Rotates the state's keys and re-seals the keyring of its pending invitations."""
        rotated = self.directory.rotate_state_keys(viewer)
        with self.ledger.transaction() as session:
            for row in self.store.of_state(session, viewer.state):
                if row.invitation_public:
                    self.store.put(session, PendingInvitation(
                        row.invitation_id, row.state, row.digest, row.invitation_public,
                        seal_to(row.invitation_public, rotated.keyring.to_bytes(),
                                _invitation_context(row.state, row.invitation_id))))
        return rotated

    # Helpers

    def _issue(self, viewer: Viewer, state: str, kind: str, username: str,
               roles: list[str], display_name: str, state_status: str,
               keyring: Keyring | None, existing: bool = False) -> Issued:
        name = check_username(username)
        if not existing:
            self._name_is_free(name)
        display = (display_name or name).strip()
        if len(display) > 200:
            raise InvalidInput("At most %(limit)s characters.", field="display_name",
                               limit=200)
        # Issuing is when an admin acts: the overdue invitations they manage are closed
        # (an Expired event each) and what they carried is deleted.
        self.expire_overdue(viewer)
        invitation_id = uuid4()
        code = InvitationCode.generate(invitation_id)
        expires = self.clock() + timedelta(days=self.invitation_days)
        invitation = Invitation.issue(viewer.actor, invitation_id, state, kind, name, roles,
                                      display, expires, state_status)
        public = code.key.public_bytes if keyring is not None else None
        sealed = (seal_to(public, keyring.to_bytes(),
                          _invitation_context(state, str(invitation_id)))
                  if keyring is not None and public is not None else None)
        with self.ledger.transaction() as session:
            self.ledger.save(invitation)
            self.store.put(session, PendingInvitation(str(invitation_id), state, code.digest,
                                                      public, sealed))
        return Issued(invitation, str(code))

    def _refuse_unless_issuer_may_still_invite(self, invitation: Invitation) -> None:
        """An invitation is only as good as its issuer: one issued by a user since
        deactivated, or who no longer holds the role that issued it, admits no one."""
        issuer = self.directory.find(UUID(invitation.issued_by))
        needed = SECRETARIAT if invitation.kind in (FIRST_ADMIN, READMIT) else STATE_ADMIN
        if issuer is not None and issuer.active and needed in issuer.roles:
            return
        if needed == SECRETARIAT:
            raise Conflict("Whoever issued this invitation can no longer invite. Ask the "
                           "secretariat for a new one.", field="code")
        raise Conflict("Whoever issued this invitation can no longer invite. Ask your state "
                       "admin for a new one.", field="code")

    def _admit_first_admin(self, invitation: Invitation, password: str,
                           display_name: str) -> Welcome:
        code = invitation.state
        if self.directory.find(state_id(code)) is not None:
            raise Conflict("%(code)s is already registered.", field="code", code=code)
        keyring = Keyring([StateKeyPair.generate(1)])
        actor = Actor(state=code, user=str(user_id(invitation.username)), keys=keyring.current)
        secret = os.urandom(32)
        recovery_public = UserKey(recovery_private_key(secret)).public_bytes
        # Self-signed with the state's first key; the audit trusts it because the
        # secretariat's signed invitation of a first admin for this code precedes it.
        state = State.register(actor, code, invitation.state_status, keyring.current.public(),
                               recovery_public)
        unlocked, credential = self._new_user(actor, invitation, keyring, password,
                                              display_name)
        invitation.accept(actor, self.clock())
        with self.ledger.transaction() as session:
            self.ledger.save(state, unlocked.user, invitation)
            self.keystore.put_credential(session, credential)
            self.keystore.put_recovery_keyring(session, code, seal_to(
                recovery_public, keyring.to_bytes(), _recovery_context(code)))
            self.store.drop(session, str(invitation.id))
        return Welcome(unlocked, format_recovery_secret(secret))

    def _admit_user(self, invitation: Invitation, row: PendingInvitation,
                    code: InvitationCode, password: str, display_name: str) -> Welcome:
        keyring = self._open_keyring(invitation, row, code)
        actor = Actor(state=invitation.state, user=str(user_id(invitation.username)),
                      keys=keyring.current)
        if invitation.kind == REACTIVATE:
            unlocked, credential = self._returning_user(actor, invitation, keyring, password)
        else:
            unlocked, credential = self._new_user(actor, invitation, keyring, password,
                                                  display_name)
        invitation.accept(actor, self.clock())
        with self.ledger.transaction() as session:
            self.ledger.save(unlocked.user, invitation)
            self.keystore.put_credential(session, credential)
            self.store.drop(session, str(invitation.id))
        return Welcome(unlocked)

    def _new_user(self, actor: Actor, invitation: Invitation, keyring: Keyring,
                  password: str, display_name: str) -> tuple[Unlocked, Credential]:
        self._name_is_free(invitation.username, pending_too=False)
        own = UserKey.generate()
        display = (display_name or invitation.display_name or invitation.username).strip()
        user = User.add(actor, invitation.username, invitation.state, invitation.roles,
                        display[:200], own.public_bytes)
        credential = self.directory._credential(user, own, keyring, password)
        return Unlocked(user, own, keyring), credential

    def _returning_user(self, actor: Actor, invitation: Invitation, keyring: Keyring,
                        password: str) -> tuple[Unlocked, Credential]:
        user = self.directory.user(invitation.username)
        if user.active or user.state != invitation.state:
            raise Conflict("%(name)s is active.", field="username", name=user.username)
        own = UserKey.generate()
        user.reactivate(actor)
        if user.second_factor:
            # It was deleted with the deactivation: the user sets up a new one.
            user.reset_second_factor(actor, "account_recovered")
        user.change_password(actor, own.public_bytes)
        credential = self.directory._credential(user, own, keyring, password)
        return Unlocked(user, own, keyring), credential

    def _name_is_free(self, name: str, pending_too: bool = True) -> None:
        """Refuses a name in use, or (when issuing) promised to an open invitation."""
        if self.directory.find(user_id(name)) is not None or (pending_too and any(
                i.username == name and self.is_open(i) for i in self._all_invitations())):
            raise Conflict("The user name '%(name)s' is taken.", field="username", name=name)

    def _all_invitations(self) -> list[Invitation]:
        return [self.ledger.repository.get(i)
                for i in self.ledger.ids_created_by(Invitation.Issued)]

    @staticmethod
    def _manages(viewer: Viewer, invitation: Invitation) -> bool:
        if invitation.kind in BY_SECRETARIAT:
            return viewer.has(SECRETARIAT)
        return viewer.has(STATE_ADMIN) and invitation.state == viewer.state

    def _managed(self, viewer: Viewer, invitation_id: UUID | str) -> Invitation:
        invitation = self.invitation(invitation_id)
        if self._manages(viewer, invitation):
            return invitation
        if invitation.state == viewer.state and invitation.kind not in BY_SECRETARIAT:
            raise Forbidden("Only a state admin manages invitations.")
        raise NotFound("No such invitation.")
