"""The Meeting aggregate: an informal meeting of interested states on concrete cases (tier 3).

WGTR co-chairs' report §41: outside the working-group sessions, because the information is
sensitive; lessons and trends go to the WGETI subgroup only with the concerned states' consent.
Clear facts: title, date, convening body, participants, status, agenda, consents. Outcomes are
sealed under the case key of the case discussed; lessons under a key of their own, wrapped for
the participants of the moment.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from cases.kernel.ledger import Actor, SignedAggregate, stored_as

PLANNED = "planned"
OPEN = "open"
HELD = "held"
CLOSED = "closed"
MEETING_STATUSES = (PLANNED, OPEN, HELD, CLOSED)
MEETING_TRANSITIONS = {PLANNED: (OPEN, CLOSED), OPEN: (HELD,), HELD: (CLOSED,), CLOSED: ()}


@stored_as("cases.meetings")
class Meeting(SignedAggregate):
    """One informal meeting, convened by the secretariat."""

    class Convened(SignedAggregate.Created):
        title: str
        date: str
        convening_body: str
        participants: list[str]

    def __init__(self, title: str, date: str, convening_body: str,
                 participants: list[str]) -> None:
        self.title = title
        self.date = date
        self.convening_body = convening_body
        self.participants = sorted(participants)
        self.status = PLANNED
        self.agenda: dict[str, str] = {}  # case id -> owner state
        self.lessons: dict[str, dict[str, Any]] = {}  # lesson id -> concerned, consents
        # Chatham House: pages and exports show what is said here without who said it.
        self.chatham_house = False

    @classmethod
    def convene(cls, actor: Actor, meeting_id: UUID, title: str, date: str,
                convening_body: str, participants: list[str]) -> Meeting:
        return cls._start(cls.Convened, meeting_id, actor, title=title, date=date,
                          convening_body=convening_body, participants=sorted(participants))

    class ParticipantJoined(SignedAggregate.Event):
        state: str

        def apply(self, meeting: Meeting) -> None:
            meeting.participants = sorted({*meeting.participants, self.state})

    def admit(self, actor: Actor, state: str) -> None:
        self._check_not_closed()
        if state in self.participants:
            raise Conflict("%(code)s already takes part.", field="state", code=state)
        self._record(self.ParticipantJoined, actor, state=state)

    class ParticipantLeft(SignedAggregate.Event):
        state: str

        def apply(self, meeting: Meeting) -> None:
            meeting.participants = [s for s in meeting.participants if s != self.state]

    def release(self, actor: Actor, state: str) -> None:
        if state not in self.participants:
            raise NotFound("%(code)s does not take part.", field="state", code=state)
        self._record(self.ParticipantLeft, actor, state=state)

    class StatusChanged(SignedAggregate.Event):
        status: str

        def apply(self, meeting: Meeting) -> None:
            meeting.status = self.status

    def change_status(self, actor: Actor, status: str) -> None:
        if status not in MEETING_STATUSES:
            raise InvalidInput("Status must be one of %(choices)s.", field="status",
                               choices=", ".join(MEETING_STATUSES))
        if status not in MEETING_TRANSITIONS[self.status]:
            raise Conflict("A meeting in status %(old)s cannot become %(new)s.", field="status",
                           old=self.status, new=status)
        self._record(self.StatusChanged, actor, status=status)

    class CaseTabled(SignedAggregate.Event):
        case_id: str
        owner: str

        def apply(self, meeting: Meeting) -> None:
            meeting.agenda[self.case_id] = self.owner

    def table(self, actor: Actor, case_id: str, owner: str) -> None:
        """Puts a case on the agenda (its owner shares it to the participants alongside)."""
        self._check_not_closed()
        if actor.state not in self.participants:
            raise Forbidden("Only a participating state tables its cases.")
        if case_id in self.agenda:
            raise Conflict("This case is already on the agenda.", field="case_id")
        self._record(self.CaseTabled, actor, case_id=case_id, owner=owner)

    class OutcomeRecorded(SignedAggregate.Event):
        case_id: str
        key_version: int

    class OutcomeRecordedWithFile(OutcomeRecorded):
        """An outcome with a file: its id, type, size and the SHA-256 of its sealed chunks
        (its name travels sealed in the body)."""

        attachment: dict[str, Any]

    def record_outcome(self, actor: Actor, case_id: str, key_version: int,
                       body: bytes, attachment: dict[str, Any] | None = None) -> None:
        """The discussion outcome of a tabled case, sealed under that case's key."""
        if case_id not in self.agenda:
            raise NotFound("This case is not on the agenda.", field="case_id")
        with_file = {"attachment": attachment} if attachment else {}
        self._record(self.OutcomeRecordedWithFile if attachment else self.OutcomeRecorded,
                     actor, body=body, case_id=case_id, key_version=key_version, **with_file)

    class LessonProposed(SignedAggregate.Event):
        lesson_id: str
        concerned: list[str]
        grants: list[dict[str, Any]]

        def apply(self, meeting: Meeting) -> None:
            meeting.lessons[self.lesson_id] = {"concerned": list(self.concerned),
                                               "consents": set()}

    def propose_lesson(self, actor: Actor, lesson_id: str, concerned: list[str],
                       grants: list[dict[str, Any]], body: bytes) -> None:
        """A lesson or trend for the WGETI subgroup; it goes nowhere without consent."""
        if actor.state not in self.participants:
            raise Forbidden("Only a participating state proposes lessons.")
        if not concerned:
            raise InvalidInput("Name the states concerned by this lesson.", field="concerned")
        self._record(self.LessonProposed, actor, body=body, lesson_id=lesson_id,
                     concerned=sorted(concerned), grants=grants)

    class ConsentGiven(SignedAggregate.Event):
        lesson_id: str

        def apply(self, meeting: Meeting) -> None:
            meeting.lessons[self.lesson_id]["consents"].add(self.actor_state)

    class ConsentWithdrawn(SignedAggregate.Event):
        lesson_id: str

        def apply(self, meeting: Meeting) -> None:
            meeting.lessons[self.lesson_id]["consents"].discard(self.actor_state)

    def consent(self, actor: Actor, lesson_id: str, given: bool) -> None:
        """The acting state consents to (or withdraws from) sending a lesson to the subgroup."""
        lesson = self.lessons.get(lesson_id)
        if lesson is None:
            raise NotFound("No such lesson.", field="lesson_id")
        if actor.state not in lesson["concerned"]:
            raise Forbidden("Only the states concerned by a lesson consent to it.")
        if given and actor.state in lesson["consents"]:
            raise Conflict("Your state's consent is already recorded so.", field="lesson_id")
        if not given and actor.state not in lesson["consents"]:
            raise Conflict("Your state has not consented.", field="lesson_id")
        self._record(self.ConsentGiven if given else self.ConsentWithdrawn, actor,
                     lesson_id=lesson_id)

    def consent_complete(self, lesson_id: str) -> bool:
        """Every concerned state consented: the lesson may go to the WGETI subgroup."""
        lesson = self.lessons[lesson_id]
        return set(lesson["concerned"]) <= lesson["consents"]

    class ChathamHouseSet(SignedAggregate.Event):
        """The convener set whether what is said at the meeting is shown without its state."""

        on: bool

        def apply(self, meeting: Meeting) -> None:
            meeting.chatham_house = self.on

    def set_chatham_house(self, actor: Actor, on: bool) -> None:
        self._check_not_closed()
        if self.chatham_house == on:
            raise Conflict("The meeting is in that mode already.")
        self._record(self.ChathamHouseSet, actor, on=on)

    def _check_not_closed(self) -> None:
        if self.status == CLOSED:
            raise Conflict("This meeting is closed.", field="status")
