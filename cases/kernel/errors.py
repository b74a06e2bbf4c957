"""The one exception family of the domain; `web/` and the CLI map each kind once."""

from __future__ import annotations


class DivexError(Exception):
    """Base of every refusal the domain makes. ``field`` names the input at fault, if any.

    ``template`` is an English sentence with named holes (``"At most %(limit)s characters."``)
    that ``params`` fill; `web/` translates the template once and fills it in the user's
    language, so a template must be a literal (pybabel extracts it by the class's name).
    ``message`` is the filled English sentence, for logs and the CLI.
    """

    status = 400

    def __init__(self, template: str, *, field: str | None = None, **params: object) -> None:
        self.template, self.params, self.field = template, params, field
        self.message = template % params if params else template
        super().__init__(self.message)


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

    def __init__(self, template: str, *, retry_after: int, **params: object) -> None:
        super().__init__(template, **params)
        self.retry_after = retry_after
