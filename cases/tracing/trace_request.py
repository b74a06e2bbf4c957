"""Trace requests: one state's national contact point asks another's to trace items of a case.

A sealed aggregate like `Case` (DESIGN §3): it keeps only clear facts (parties, case, items,
status, outcome, dates, key version), so its rules run without any key. The questions, the
"missing information" checklist ticks and the answer travel sealed in each event's ``body``
under the trace's own key, wrapped for the two states (and, at the requester's choice, the
case's readers at the time of sending).

Lifecycle (DESIGN §2, UNIDIR ITI review §§18-23)::

    sent → acknowledged → more_info_requested ⇄ sent → answered → closed

An answer may also come straight from ``sent`` (and asking for more information need not
wait for an acknowledgement): a reply is proof of receipt, and a quick trace should not cost
an extra step. Answering unacknowledged counts as acknowledging on the same day.
Dates (``on``) come from the service's clock, so the board and the deadline agree with it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from cases.casework.content import country
from cases.kernel.errors import Conflict, Forbidden, InvalidInput
from cases.kernel.ledger import Actor, SignedAggregate, stored_as

SENT = "sent"
ACKNOWLEDGED = "acknowledged"
MORE_INFO_REQUESTED = "more_info_requested"
ANSWERED = "answered"
CLOSED = "closed"
STATUSES = (SENT, ACKNOWLEDGED, MORE_INFO_REQUESTED, ANSWERED, CLOSED)

TRANSITIONS = {
    SENT: (ACKNOWLEDGED, MORE_INFO_REQUESTED, ANSWERED),
    ACKNOWLEDGED: (MORE_INFO_REQUESTED, ANSWERED),
    MORE_INFO_REQUESTED: (SENT,),
    ANSWERED: (CLOSED,),
    CLOSED: (),
}

# The requested state owes a reply in these; while it waits for information, it does not.
AWAITING_REPLY = (SENT, ACKNOWLEDGED)

TRACED = "traced"
NOT_TRACED = "not_traced"
UNTRACEABLE = "untraceable"
OUTCOMES = (TRACED, NOT_TRACED, UNTRACEABLE)

# What a requested state can point to as missing (the ITI's format for a tracing request).
CHECKLIST = ("make", "model", "serial", "calibre", "year", "country_of_manufacture",
             "import_marking", "markings_photos", "end_user_certificate", "other")

DEFAULT_DEADLINE_DAYS = 30
MAX_DEADLINE_DAYS = 365
# The ITI asks for a prompt acknowledgement; the pair statistics count one within a week.
PROMPT_ACKNOWLEDGEMENT_DAYS = 7


# What a request waits for from one of its two states (`action_for`).
ACKNOWLEDGE, ANSWER, SUPPLY, CLOSE = "acknowledge", "answer", "supply", "close"


def action_for(state: str, requester: str, requested: str, status: str) -> str:
    """What the request waits for from ``state`` now, or "" when it waits for the other
    state or for nothing."""
    if state == requested:
        return {SENT: ACKNOWLEDGE, ACKNOWLEDGED: ANSWER}.get(status, "")
    if state == requester:
        return {MORE_INFO_REQUESTED: SUPPLY, ANSWERED: CLOSE}.get(status, "")
    return ""


def day_of(moment: date | datetime) -> date:
    """The calendar day of a clock reading."""
    return moment.date() if isinstance(moment, datetime) else moment


def is_overdue(status: str, deadline: date, now: date | datetime) -> bool:
    """Overdue: the requested state owes a reply and the deadline day has passed."""
    return status in AWAITING_REPLY and day_of(now) > deadline


@stored_as("cases.tracing")
class TraceRequest(SignedAggregate):
    """One request from the requesting state to the requested state about items of a case."""

    class Sent(SignedAggregate.Created):
        requester: str
        requested: str
        case_id: str
        item_ids: list[str]
        on: str
        deadline: str
        key_version: int
        grants: list[dict[str, Any]]

    def __init__(self, requester: str, requested: str, case_id: str, item_ids: list[str],
                 on: str, deadline: str, key_version: int,
                 grants: list[dict[str, Any]]) -> None:
        self.requester = requester
        self.requested = requested
        self.case_id = case_id
        self.item_ids = list(item_ids)
        self.status = SENT
        self.outcome = ""
        self.sent_on = date.fromisoformat(on)
        self.deadline = date.fromisoformat(deadline)
        self.acknowledged_on: date | None = None
        self.answered_on: date | None = None
        self.closed_on: date | None = None
        self.attached_part_id = ""
        self.key_version = key_version
        self.recipients = sorted({g["recipient"] for g in grants})

    @classmethod
    def send(cls, actor: Actor, trace_id: UUID, requested: str, case_id: UUID,
             item_ids: list[str], on: date, deadline: date, grants: list[dict[str, Any]],
             body: bytes) -> TraceRequest:
        """Sends a request; ``body`` seals the questions and the items as sent."""
        if requested == actor.state:
            raise InvalidInput("A state does not send a trace request to itself.",
                               field="requested_state")
        if not item_ids:
            raise InvalidInput("Name at least one item of the case to trace.", field="item_ids")
        if deadline <= on:
            raise InvalidInput("The deadline must fall after the day of sending.",
                               field="deadline_days")
        return cls._start(cls.Sent, trace_id, actor, body=body, requester=actor.state,
                          requested=requested, case_id=str(case_id), item_ids=list(item_ids),
                          on=on.isoformat(), deadline=deadline.isoformat(), key_version=1,
                          grants=grants)

    class Acknowledged(SignedAggregate.Event):
        on: str

        def apply(self, trace: TraceRequest) -> None:
            trace.status = ACKNOWLEDGED
            trace.acknowledged_on = trace.acknowledged_on or date.fromisoformat(self.on)

    def acknowledge(self, actor: Actor, on: date) -> None:
        self._check_party(actor, self.requested,
                          Forbidden("Only the requested state acknowledges."))
        self._check_move(ACKNOWLEDGED)
        self._record(self.Acknowledged, actor, on=on.isoformat())

    class MoreInfoRequested(SignedAggregate.Event):
        on: str
        key_version: int

        def apply(self, trace: TraceRequest) -> None:
            trace.status = MORE_INFO_REQUESTED

    def request_more_info(self, actor: Actor, on: date, body: bytes) -> None:
        """The requested state says what is missing; ``body`` seals the checklist and note."""
        self._check_party(actor, self.requested,
                          Forbidden("Only the requested state asks for more."))
        self._check_move(MORE_INFO_REQUESTED)
        self._record(self.MoreInfoRequested, actor, body=body, on=on.isoformat(),
                     key_version=self.key_version)

    class InformationSupplied(SignedAggregate.Event):
        on: str
        key_version: int

        def apply(self, trace: TraceRequest) -> None:
            trace.status = SENT

    def supply_information(self, actor: Actor, on: date, body: bytes) -> None:
        """The requester completes its request, which goes back to the requested state."""
        self._check_party(actor, self.requester,
                          Forbidden("Only the requesting state completes it."))
        self._check_move(SENT)
        self._record(self.InformationSupplied, actor, body=body, on=on.isoformat(),
                     key_version=self.key_version)

    class Answered(SignedAggregate.Event):
        on: str
        outcome: str
        key_version: int

        def apply(self, trace: TraceRequest) -> None:
            trace.status = ANSWERED
            trace.outcome = self.outcome
            trace.answered_on = date.fromisoformat(self.on)
            trace.acknowledged_on = trace.acknowledged_on or trace.answered_on

    class AnsweredWithFile(Answered):
        """An answer with a file: its id, type, size and the SHA-256 of its sealed chunks
        (its name travels sealed in the body)."""

        attachment: dict[str, Any]

    def answer(self, actor: Actor, on: date, outcome: str, body: bytes,
               attachment: dict[str, Any] | None = None) -> None:
        """The requested state answers; the outcome is clear, the details sealed in ``body``."""
        self._check_party(actor, self.requested, Forbidden("Only the requested state answers."))
        if outcome not in OUTCOMES:
            raise InvalidInput("The outcome must be one of %(choices)s.", field="outcome",
                               choices=", ".join(OUTCOMES))
        self._check_move(ANSWERED)
        with_file = {"attachment": attachment} if attachment else {}
        self._record(self.AnsweredWithFile if attachment else self.Answered, actor, body=body,
                     on=on.isoformat(), outcome=outcome, key_version=self.key_version,
                     **with_file)

    class Closed(SignedAggregate.Event):
        on: str
        key_version: int

        def apply(self, trace: TraceRequest) -> None:
            trace.status = CLOSED
            trace.closed_on = date.fromisoformat(self.on)

    def close(self, actor: Actor, on: date, body: bytes) -> None:
        """The requester closes the answered request; ``body`` seals its feedback."""
        self._check_party(actor, self.requester, Forbidden("Only the requesting state closes it."))
        self._check_move(CLOSED)
        self._record(self.Closed, actor, body=body, on=on.isoformat(),
                     key_version=self.key_version)

    class DeadlineChanged(SignedAggregate.Event):
        on: str
        deadline: str

        def apply(self, trace: TraceRequest) -> None:
            trace.deadline = date.fromisoformat(self.deadline)

    def change_deadline(self, actor: Actor, on: date, deadline: date) -> None:
        """The requester moves the deadline of a request still awaiting its answer."""
        self._check_party(actor, self.requester,
                          Forbidden("Only the requesting state sets the deadline."))
        if self.status in (ANSWERED, CLOSED):
            raise Conflict("A request in status %(old)s has no deadline to change.",
                           field="status", old=self.status)
        if deadline <= self.sent_on:
            raise InvalidInput("The deadline must fall after the day of sending.",
                               field="deadline")
        self._record(self.DeadlineChanged, actor, on=on.isoformat(),
                     deadline=deadline.isoformat())

    class AnswerAttached(SignedAggregate.Event):
        on: str
        part_id: str

        def apply(self, trace: TraceRequest) -> None:
            trace.attached_part_id = self.part_id

    def attach_answer(self, actor: Actor, on: date, part_id: str) -> None:
        """Records that the answer became route leg ``part_id`` of the case."""
        self.check_attachable(actor)
        self._record(self.AnswerAttached, actor, on=on.isoformat(), part_id=part_id)

    # Rules

    def readable_by(self, state: str) -> bool:
        return state in self.recipients

    def overdue(self, now: date | datetime) -> bool:
        """Computed from the caller's clock; never stored."""
        return is_overdue(self.status, self.deadline, now)

    def check_attachable(self, actor: Actor) -> None:
        """Only a traced answer, once, by the requester, becomes a route leg of the case."""
        self._check_party(actor, self.requester,
                          Forbidden("Only the requesting state attaches answers."))
        if self.status not in (ANSWERED, CLOSED):
            raise Conflict("A request in status %(old)s has no answer to attach yet.",
                           field="status", old=self.status)
        if self.outcome != TRACED:
            raise Conflict("An answer with the outcome %(outcome)s gives no route to attach.",
                           field="outcome", outcome=self.outcome)
        if self.attached_part_id:
            raise Conflict("This answer is already a route leg of the case.", field="status")

    @staticmethod
    def _check_party(actor: Actor, party: str, refusal: Forbidden) -> None:
        if actor.state != party:
            raise refusal

    def _check_move(self, status: str) -> None:
        if status not in TRANSITIONS[self.status]:
            raise Conflict("A trace request in status %(old)s cannot become %(new)s.",
                           field="status", old=self.status, new=status)


# Content, validated before it is sealed. Every check names the field at fault.

def _text(value: Any, field: str, *, required: bool = False, limit: int = 20_000) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput("This field is required.", field=field)
    if len(text) > limit:
        raise InvalidInput("At most %(limit)s characters.", field=field, limit=limit)
    return text


def deadline_after(on: date, days: Any) -> date:
    """The deadline ``days`` after the day of sending (1 to 365 days)."""
    try:
        number = int(str(days).strip())
    except ValueError:
        raise InvalidInput("Enter a whole number of days.", field="deadline_days") from None
    if not 1 <= number <= MAX_DEADLINE_DAYS:
        raise InvalidInput("Give between 1 and %(most)s days.", field="deadline_days",
                           most=MAX_DEADLINE_DAYS)
    return on + timedelta(days=number)


def validate_checklist(checklist: Any, note: Any) -> dict[str, Any]:
    """What the requested state finds missing: ticks from `CHECKLIST`, and a note."""
    ticks = [checklist] if isinstance(checklist, str) else list(checklist or [])
    wrong = [str(t) for t in ticks if t not in CHECKLIST]
    if wrong:
        raise InvalidInput("Not on the checklist: %(entries)s.", field="checklist",
                           entries=", ".join(wrong))
    content = {"checklist": [c for c in CHECKLIST if c in ticks],
               "note": _text(note, "note")}
    if not content["checklist"] and not content["note"]:
        raise InvalidInput("Tick what is missing or say it in a note.", field="checklist")
    return content


def validate_supplied(answers: Any, note: Any) -> dict[str, Any]:
    """The requester's completion: answers by checklist entry, and a note."""
    if not isinstance(answers, dict):
        raise InvalidInput("Answers go by checklist entry.", field="answers")
    wrong = [str(k) for k in answers if k not in CHECKLIST]
    if wrong:
        raise InvalidInput("Not on the checklist: %(entries)s.", field="answers",
                           entries=", ".join(wrong))
    given = {k: _text(v, f"answers.{k}", limit=2000) for k, v in answers.items()}
    content = {"answers": {k: v for k, v in sorted(given.items()) if v},
               "note": _text(note, "note")}
    if not content["answers"] and not content["note"]:
        raise InvalidInput("Give the missing information or a note.", field="answers")
    return content


def validate_answer(today: date, destination: Any, on: Any, licence: Any, text: Any,
                    recipient: Any = "", last_legal_holder: Any = "") -> dict[str, Any]:
    """The sealed part of an answer (the ITI's): where the items went and to whom, when,
    under which licence, and the last legal holder known. Empty stays unknown."""
    raw_day = str(on or "").strip()
    day = ""
    if raw_day:
        try:
            parsed = date.fromisoformat(raw_day)
        except ValueError:
            raise InvalidInput("Enter a date as YYYY-MM-DD.", field="date") from None
        if parsed > today:
            raise InvalidInput("The date cannot be in the future.", field="date")
        day = parsed.isoformat()
    return {"destination": country(destination, "destination"), "date": day,
            "licence": _text(licence, "licence", limit=200), "text": _text(text, "text"),
            "recipient": _text(recipient, "recipient", limit=200),
            "last_legal_holder": _text(last_legal_holder, "last_legal_holder", limit=200)}
