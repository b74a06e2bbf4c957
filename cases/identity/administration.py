"""Administration of the directory beside onboarding: the secretariat manages states (status,
suspension); a state admin manages the users of their state (roles, deactivation). Mixed into
`cases.onboarding_service.Onboarding`, whose stores it uses."""

from __future__ import annotations

from cases.identity.directory import SECRETARIAT_CODE, STATE_STATUSES, State, User, check_roles
from cases.identity.directory_service import Directory
from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from cases.kernel.ledger import Ledger
from cases.kernel.viewer import SECRETARIAT, STATE_ADMIN, Viewer


class Administration:
    directory: Directory
    ledger: Ledger

    # Queries

    def users(self, viewer: Viewer, code: str | None = None) -> list[User]:
        """Every user of the viewer's state (a state admin), deactivated ones too; the
        secretariat may name another state (it sees names and roles, never keys)."""
        code = (code or viewer.state).strip().upper()
        if code != viewer.state and not viewer.has(SECRETARIAT):
            raise NotFound("No state with code '%(code)s' is registered.", field="code",
                           code=code)
        if not (viewer.has(STATE_ADMIN) or viewer.has(SECRETARIAT)):
            raise Forbidden("Only a state admin manages users.")
        users = [u for u in self.ledger.all_of(User) if u.state == code]
        return sorted(users, key=lambda u: u.username)

    # Commands: states (the secretariat)

    def change_state_status(self, viewer: Viewer, code: str, status: str) -> State:
        """A signatory that ratifies becomes a State Party (or the reverse): it receives
        portal shares made from then on (and earlier ones through the owners, see
        `CaseService.open_portal_to_new_parties`), and is asked for tier-1 consent."""
        state = self._member_state(viewer, code)
        if status not in STATE_STATUSES:
            raise InvalidInput("Status must be one of %(choices)s.", field="status",
                               choices=", ".join(STATE_STATUSES))
        state.change_status(viewer.actor, status)
        self.ledger.save_all(state)
        return state

    def suspend_state(self, viewer: Viewer, code: str) -> State:
        """Its users can no longer sign in, nor its API tokens call; nothing is deleted."""
        state = self._member_state(viewer, code)
        state.suspend(viewer.actor)
        self.ledger.save_all(state)
        return state

    def reinstate_state(self, viewer: Viewer, code: str) -> State:
        state = self._member_state(viewer, code)
        state.reinstate(viewer.actor)
        self.ledger.save_all(state)
        return state

    def _member_state(self, viewer: Viewer, code: str) -> State:
        self._require(viewer, SECRETARIAT, Forbidden("Only the secretariat manages states."))
        state = self.directory.state(code)
        if state.code == SECRETARIAT_CODE:
            raise InvalidInput("That code is reserved for the secretariat.", field="code")
        return state

    # Commands: users

    def change_roles(self, viewer: Viewer, username: str, roles: list[str]) -> User:
        user = self._user_of_my_state(viewer, username,
                                      Forbidden("Only a state admin changes roles."))
        chosen = check_roles(roles, user.state)
        if chosen == sorted(user.roles):
            raise Conflict("%(name)s already has these roles.", field="roles",
                           name=user.username)
        if STATE_ADMIN in user.roles and STATE_ADMIN not in chosen:
            self._keep_an_admin(user)
        user.change_roles(viewer.actor, chosen)
        self.ledger.save_all(user)
        return user

    def deactivate(self, viewer: Viewer, username: str) -> None:
        user = self._user_of_my_state(viewer, username,
                                      Forbidden("Only a state admin deactivates users."))
        if user.active and STATE_ADMIN in user.roles:
            self._keep_an_admin(user)
        self.directory.deactivate_user(viewer, user.username)

    # Helpers

    def _keep_an_admin(self, user: User) -> None:
        others = [u for u in self.directory.users_of_state(user.state)
                  if u.id != user.id and u.active and STATE_ADMIN in u.roles]
        if not others:
            raise Conflict("%(name)s is the last state admin of %(code)s; make someone else "
                           "state admin first.", field="username", name=user.username,
                           code=user.state)

    def _user_of_my_state(self, viewer: Viewer, username: str, refusal: Forbidden) -> User:
        self._require(viewer, STATE_ADMIN, refusal)
        user = self.directory.user(username)
        if user.state != viewer.state:
            raise NotFound("No user named '%(name)s'.", field="username", name=username)
        return user

    @staticmethod
    def _require(viewer: Viewer, role: str, refusal: Forbidden) -> None:
        if not viewer.has(role):
            raise refusal
