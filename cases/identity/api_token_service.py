"""API tokens: issued by a signed-in user with their password, used as bearer credentials.

Issuing needs the password because the token carries the user's own key (the one the password
unlocks), sealed under the token's secret (`crypto.apitoken`). A call with the token opens that
key, and with it the state keyring sealed to the user, exactly as a sign-in does. So a token
follows key rotations, and dies with a password change, a deactivation or a revocation.
A token acts with the roles chosen at issue that the user still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from cases.identity.directory import User
from cases.identity.directory_service import Directory
from cases.kernel.errors import AuthenticationFailed, Forbidden, InvalidInput, NotFound
from cases.kernel.keystore import ApiTokenRow
from cases.kernel.viewer import STATE_ADMIN, Viewer
from crypto import CryptoError
from crypto.apitoken import ApiToken

MAX_DAYS = 365
MAX_NAME = 80


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    name: str
    roles: list[str]
    expires: date
    issued: datetime


def _info(token_id: str, fields: dict[str, Any]) -> TokenInfo:
    return TokenInfo(token_id=token_id, name=fields["name"], roles=list(fields["roles"]),
                     expires=date.fromisoformat(fields["expires"]),
                     issued=datetime.fromisoformat(fields["issued"]))


def _refused() -> AuthenticationFailed:
    """The one answer to every bad token, whatever is wrong with it."""
    return AuthenticationFailed(
        "This API token is not valid. Issue a new one on your account page.")


class ApiTokens:
    def __init__(self, directory: Directory,
                 today: Any = lambda: datetime.now(UTC).date()) -> None:
        self.directory = directory
        self.today = today

    def issue(self, viewer: Viewer, password: str, name: str, roles: list[str],
              days: int = 90) -> tuple[str, TokenInfo]:
        """A new token for the viewer; its text is returned once and never stored."""
        name = (name or "").strip()
        if not name or len(name) > MAX_NAME:
            raise InvalidInput("Give the token a name of 1 to %(most)s characters.",
                               field="name", most=MAX_NAME)
        chosen = sorted(set(roles or viewer.roles))
        if not set(chosen) <= viewer.roles:
            raise InvalidInput("A token can only have roles you hold.", field="roles")
        if type(days) is not int or not 1 <= days <= MAX_DAYS:
            raise InvalidInput("A token lasts 1 to %(most)s days.", field="days", most=MAX_DAYS)
        try:
            unlocked = self.directory.unlock(viewer.username, password)
        except AuthenticationFailed:
            raise AuthenticationFailed("Wrong password.", field="password") from None
        user, own = unlocked.user, unlocked.user_key
        token = ApiToken.generate()
        expires = (self.today() + timedelta(days=days)).isoformat()
        user.issue_api_token(viewer.actor, token.token_id, name, chosen, expires)
        ledger, keystore = self.directory.ledger, self.directory.keystore
        with ledger.transaction() as session:
            ledger.save(user)
            keystore.put_api_token(session, ApiTokenRow(
                token_id=token.token_id, user_id=str(user.id), digest=token.digest,
                user_key_sealed=token.seal(own.to_bytes())))
        return str(token), _info(token.token_id, user.api_tokens[token.token_id])

    def of(self, viewer: Viewer, username: str | None = None) -> list[TokenInfo]:
        """The tokens in force of the viewer, or (for a state admin) of a user of their state."""
        user = self._user_of(viewer, username or viewer.username)
        return sorted((_info(k, v) for k, v in user.api_tokens.items()),
                      key=lambda t: t.issued, reverse=True)

    def revoke(self, viewer: Viewer, token_id: str, username: str | None = None) -> None:
        user = self._user_of(viewer, username or viewer.username)
        if token_id not in user.api_tokens:
            raise NotFound("No such API token.", field="token_id")
        user.revoke_api_token(viewer.actor, token_id)
        ledger = self.directory.ledger
        with ledger.transaction() as session:
            ledger.save(user)
            self.directory.keystore.drop_api_tokens(session, str(user.id), token_id)

    def authenticate(self, text: str) -> Viewer:
        """The viewer a bearer token stands for; AuthenticationFailed, saying nothing more,
        for a malformed, unknown, revoked or expired token or a deactivated user."""
        try:
            token = ApiToken.parse(text)
        except CryptoError:
            raise _refused() from None
        with self.directory.ledger.transaction() as session:
            row = self.directory.keystore.api_token(session, token.token_id)
        if row is None or not token.matches(row.digest):
            raise _refused()
        try:
            # As a sign-in resumed from the user key: refused if the user is deactivated or
            # the password (hence the user key) changed since.
            unlocked = self.directory.resume_by_id(UUID(row.user_id),
                                                   token.open(row.user_key_sealed))
        except (CryptoError, AuthenticationFailed):
            raise _refused() from None
        user = unlocked.user
        fields = user.api_tokens.get(token.token_id)
        if fields is None or date.fromisoformat(fields["expires"]) < self.today():
            raise _refused()
        return Viewer(user_id=str(user.id), username=user.username, state=user.state,
                      roles=frozenset(fields["roles"]) & frozenset(user.roles),
                      keyring=unlocked.keyring, own_key=unlocked.user_key)

    def _user_of(self, viewer: Viewer, username: str) -> User:
        user = self.directory.user(username)
        if str(user.id) != viewer.user_id and not (
                viewer.has(STATE_ADMIN) and user.state == viewer.state):
            if user.state != viewer.state:
                raise NotFound("No user named '%(name)s'.", field="username", name=username)
            raise Forbidden("Only a state admin manages the tokens of other users.")
        return user
