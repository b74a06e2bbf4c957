"""A private hit: an item of one state's case and an item of another state's share an
identifier (issue 20). The hit names the two states and carries, for each, a reference to its
own case and item sealed to that state's key: neither state, nor the server, learns the other's
case from it. Each state answers it once: it shared its case with the other, sent a trace
request, or dismissed the hit; the other state sees the answer.
"""

from __future__ import annotations

import uuid

from cases.kernel.errors import Conflict, InvalidInput, NotFound
from cases.kernel.ledger import Actor, SignedAggregate, stored_as

ANSWERS = ("case_shared", "trace_sent", "dismissed")
_HITS = uuid.UUID("0b8f3a52-2d5e-4a64-8f61-7b1c83f1e6d4")


@stored_as("cases.hits.hit")
class Hit(SignedAggregate):
    class Found(SignedAggregate.Created):
        """``refs``: each party's sealed reference to its case and item (base64)."""

        parties: list[str]
        refs: dict[str, str]

    def __init__(self, parties: list[str], refs: dict[str, str]) -> None:
        self.parties = list(parties)
        self.refs = dict(refs)
        self.answers: dict[str, str] = {}

    @staticmethod
    def id_for(*item_handles: bytes) -> uuid.UUID:
        """The same two items always make the same hit."""
        return uuid.uuid5(_HITS, "|".join(sorted(h.hex() for h in item_handles)))

    @classmethod
    def found(cls, actor: Actor, hit_id: uuid.UUID, refs: dict[str, str]) -> Hit:
        return cls._start(cls.Found, hit_id, actor, parties=sorted(refs), refs=refs)

    class Answered(SignedAggregate.Event):
        answer: str

        def apply(self, hit: Hit) -> None:
            hit.answers[self.actor_state] = self.answer

    def answer(self, actor: Actor, answer: str) -> None:
        if actor.state not in self.parties:
            raise NotFound("No such hit.")
        if answer not in ANSWERS:
            raise InvalidInput("Choose one of: %(choices)s.", field="answer",
                               choices=", ".join(ANSWERS))
        if actor.state in self.answers:
            raise Conflict("Your state answered this hit already.")
        self._record(self.Answered, actor, answer=answer)

    def other(self, state: str) -> str:
        return next(p for p in self.parties if p != state)
