"""The one exception family of the domain; `web/` and the CLI map each kind once."""

from __future__ import annotations


class DivexError(Exception):
    """Base of every refusal the domain makes. ``field`` names the input at fault, if any."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DivexError):
    """A value is malformed or out of range; ``field`` says which."""

    status = 422


class NotFound(DivexError):
    """Nothing of that name exists, or the viewer may not know that it does."""

    status = 404


class Forbidden(DivexError):
    """The viewer is known but their state or role does not allow the action."""

    status = 403


class Conflict(DivexError):
    """The action would contradict what is stored: a stale version, a duplicate, a wrong state."""

    status = 409


class AuthenticationFailed(DivexError):
    """Wrong user name or password, or a deactivated account (never says which)."""

    status = 401


class Busy(DivexError):
    """The server cannot take this now (too many sign-ins at once); retry in ``retry_after`` s."""

    status = 503

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
