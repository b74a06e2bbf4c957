"""A contribution: what a state that reads a case adds to it (issue 21) — a comment, information,
or an answer to a question — in its own aggregate, so it never collides with the owner's edits.

Sealed like the case (DESIGN §3): the text travels in each event's ``body`` under the case's key
of ``key_version`` (the current one when written), bound to the contribution's id, version and
event type. So a state that reads the case reads its contributions, one added later reads the
earlier ones, and one removed (the case key rotated) cannot open what is written after.
Only clear facts stay in the aggregate: the case, the contributing state, the kind, and whether
it was withdrawn or hidden.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from cases.kernel.errors import Conflict, Forbidden, InvalidInput
from cases.kernel.ledger import Actor, SignedAggregate, stored_as

KINDS = ("comment", "information", "answer")
MAX_TEXT = 20_000


def validate_contribution(kind: str, text: str, attached: bool = False) -> dict[str, Any]:
    """The content sealed in a contribution's body; a file may come without words."""
    if kind not in KINDS:
        raise InvalidInput("Choose one of: %(choices)s.", field="kind",
                           choices=", ".join(KINDS))
    text = (text or "").strip()
    if not text and not attached:
        raise InvalidInput("This field is required.", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput("At most %(limit)s characters.", field="text", limit=MAX_TEXT)
    return {"text": text}


@stored_as("cases.contribution")
class Contribution(SignedAggregate):
    """One state's contribution to a case it reads."""

    class Contributed(SignedAggregate.Created):
        """``attachment``: its id, type, size and the SHA-256 of its sealed chunks ({} if
        none); its name travels sealed in the body."""

        case_id: str
        state: str
        kind: str
        key_version: int
        attachment: dict[str, Any]

    class ContributedAtMeeting(Contributed):
        """Said in the discussion of the case at an informal meeting (tier 3)."""

        meeting: str

    def __init__(self, case_id: str, state: str, kind: str, key_version: int,
                 attachment: dict[str, Any], meeting: str = "") -> None:
        self.case_id = case_id
        self.state = state
        self.kind = kind
        self.key_version = key_version
        self.attachment = dict(attachment)
        self.meeting = meeting
        self.withdrawn = False
        self.hidden = False

    @classmethod
    def contribute(cls, actor: Actor, contribution_id: UUID, case_id: UUID, kind: str,
                   key_version: int, body: bytes, attachment: dict[str, Any] | None = None,
                   meeting: str = "") -> Contribution:
        at_meeting = {"meeting": meeting} if meeting else {}
        return cls._start(cls.ContributedAtMeeting if meeting else cls.Contributed,
                          contribution_id, actor, body=body, case_id=str(case_id),
                          state=actor.state, kind=kind, key_version=key_version,
                          attachment=attachment or {}, **at_meeting)

    class Revised(SignedAggregate.Event):
        key_version: int

        def apply(self, contribution: Contribution) -> None:
            contribution.key_version = self.key_version

    def revise(self, actor: Actor, key_version: int, body: bytes) -> None:
        self._require_own(actor)
        self._record(self.Revised, actor, body=body, key_version=key_version)

    class Withdrawn(SignedAggregate.Event):
        def apply(self, contribution: Contribution) -> None:
            contribution.withdrawn = True

    def withdraw(self, actor: Actor) -> None:
        self._require_own(actor)
        self._record(self.Withdrawn, actor)

    class Hidden(SignedAggregate.Event):
        """The case's owner hid it from the case page; the body seals the reason."""

        key_version: int

        def apply(self, contribution: Contribution) -> None:
            contribution.hidden = True

    def hide(self, actor: Actor, key_version: int, body: bytes) -> None:
        if self.hidden:
            raise Conflict("This contribution is hidden already.")
        self._record(self.Hidden, actor, body=body, key_version=key_version)

    def _require_own(self, actor: Actor) -> None:
        if actor.state != self.state:
            raise Forbidden("Only the state that wrote a contribution revises or withdraws it.")
        if self.withdrawn:
            raise Conflict("This contribution was withdrawn.")
