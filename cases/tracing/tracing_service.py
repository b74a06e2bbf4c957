"""The Traces application service: trace requests between national contact points.

Rules: only analysts of the case owner send, complete, re-date and close a request, and
attach its answer to the case; only analysts of the requested state acknowledge, ask for more
information and answer; only states holding a wrapped trace key read it (others are told it
does not exist). Every refusal stores nothing.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from typing import Any, Protocol
from uuid import UUID

from cases.casework.attachment_store import AttachmentStore
from cases.casework.attachments import Upload
from cases.casework.case_service import Cases, Clock, utc_now
from cases.identity.directory import SECRETARIAT_CODE, SIGNATORY, STATE_PARTY
from cases.identity.directory_service import Directory
from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from cases.kernel.keystore import KeyStore
from cases.kernel.ledger import Ledger
from cases.kernel.sealing import Grant, body_context, open_body, open_json, seal_body
from cases.kernel.viewer import ANALYST, Viewer
from cases.tracing.trace_request import (
    DEFAULT_DEADLINE_DAYS,
    TraceRequest,
    day_of,
    deadline_after,
    validate_answer,
    validate_checklist,
    validate_supplied,
)
from crypto import CaseKey, CryptoError


class SealedRequest(Protocol):
    """A request as the trace board holds it: its sealed body as sent."""

    trace_id: str
    request_token: str


@dataclass
class TraceView:
    """A trace request as a state holding its key reads it."""

    id: str
    case_id: str
    requester: str
    requested: str
    item_ids: list[str]
    status: str
    outcome: str
    sent_on: date
    deadline: date
    acknowledged_on: date | None
    answered_on: date | None
    closed_on: date | None
    overdue: bool
    recipients: list[str]
    version: int
    attached_part_id: str
    questions: str = ""
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    shared_with_case_readers: bool = False
    more_info: list[dict[str, Any]] = field(default_factory=list)
    supplied: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] | None = None
    feedback: str = ""
    unreadable_events: int = 0
    case_shredded: bool = False  # the keys went with the case's: no content for anyone


class Traces:
    """Commands and queries on trace requests, for a given `Viewer`."""

    def __init__(self, ledger: Ledger, keystore: KeyStore, directory: Directory, cases: Cases,
                 clock: Clock = utc_now, zone: tzinfo = UTC,
                 files: AttachmentStore | None = None) -> None:
        self.ledger = ledger
        self.keystore = keystore
        self.files = files or AttachmentStore(keystore)  # an answer's file
        self.directory = directory
        self.cases = cases
        self.clock = clock
        self.zone = zone  # the deployment's calendar: days and deadlines are its days

    # Commands

    def send(self, viewer: Viewer, case_id: UUID, requested_state: str, item_ids: list[str],
             questions: str, deadline_days: int = DEFAULT_DEADLINE_DAYS,
             share_with_case_readers: bool = False) -> UUID:
        """Sends a request about items of a case; returns the trace id.

        The items as the requester reads them travel sealed with the questions, so the
        requested state can trace them without reading the case. With
        ``share_with_case_readers`` the case's readers at this moment read the request too.
        """
        case = self.cases.view_to_trace(viewer, case_id)
        requested = self._requestable(viewer, requested_state)
        wanted = list(dict.fromkeys(str(i).strip() for i in item_ids or [] if str(i).strip()))
        unknown = [i for i in wanted if i not in case.items]
        if unknown:
            raise InvalidInput("The case has no item %(items)s.", field="item_ids",
                               items=", ".join(unknown))
        text = str(questions or "").strip()
        if not text:
            raise InvalidInput("Say what you ask the requested state.", field="questions")
        if len(text) > 20_000:
            raise InvalidInput("At most %(limit)s characters.", field="questions", limit=20_000)
        today = self._today()
        deadline = deadline_after(today, deadline_days)
        readers = {viewer.state, requested}
        if share_with_case_readers:
            readers |= set(case.recipients)
        trace_id = uuid.uuid4()
        key = CaseKey.generate(1)
        granted = self.cases.sealing.grant(trace_id, [key], sorted(readers))
        content = {"questions": text, "items": {i: case.items[i] for i in wanted},
                   "shared_with_case_readers": bool(share_with_case_readers)}
        trace = TraceRequest.send(
            viewer.actor, trace_id, requested, case_id, wanted, today, deadline,
            granted.grants, body=seal_body(key, trace_id, 1, TraceRequest.Sent, content))
        self._save(trace, granted, case_id=case_id)
        return trace_id

    def acknowledge(self, viewer: Viewer, trace_id: UUID) -> None:
        trace, _ = self._for_change(viewer, trace_id)
        trace.acknowledge(viewer.actor, self._today())
        self._save(trace)

    def request_more_info(self, viewer: Viewer, trace_id: UUID, checklist: list[str],
                          note: str = "") -> None:
        """The requested state ticks what is missing from the request."""
        trace, key = self._for_change(viewer, trace_id)
        content = validate_checklist(checklist, note)
        trace.request_more_info(viewer.actor, self._today(),
                                self._seal(key, trace, TraceRequest.MoreInfoRequested, content))
        self._save(trace)

    def complete(self, viewer: Viewer, trace_id: UUID, answers: dict[str, str] | None = None,
                 note: str = "") -> None:
        """The requester supplies what was missing; the request is `sent` again."""
        trace, key = self._for_change(viewer, trace_id)
        content = validate_supplied(answers or {}, note)
        trace.supply_information(viewer.actor, self._today(),
                                 self._seal(key, trace, TraceRequest.InformationSupplied,
                                            content))
        self._save(trace)

    def answer(self, viewer: Viewer, trace_id: UUID, outcome: str, destination: str = "",
               date: str = "", licence: str = "", text: str = "", recipient: str = "",
               last_legal_holder: str = "", upload: Upload | None = None) -> None:
        """The requested state answers: traced, not traced or untraceable, with details and,
        if given, a file (an export licence, an end-user certificate), sealed under the
        request's key and stored with the answer's event, or not at all."""
        trace, key = self._for_change(viewer, trace_id)
        today = self._today()
        content = validate_answer(today, destination, date, licence, text, recipient,
                                  last_legal_holder)
        data, mime = self.files.checked(upload) if upload is not None else (b"", "")
        with self.ledger.transaction() as session:
            attachment = self.files.store(session, trace.case_id, key, data, mime) \
                if upload is not None else None
            if upload is not None:
                content["attachment_name"] = upload.name[:200]
            event = TraceRequest.AnsweredWithFile if attachment else TraceRequest.Answered
            trace.answer(viewer.actor, today, str(outcome or "").strip(),
                         self._seal(key, trace, event, content), attachment)
            self.ledger.save(trace)

    def answer_file(self, viewer: Viewer, trace_id: UUID) -> tuple[str, str, Iterator[bytes]]:
        """The file of a request's answer, for the states that read the request: its name,
        type and bytes."""
        trace = self._readable(viewer, trace_id)
        answered = next((e for e in self.ledger.events.get(trace.id)
                         if isinstance(e, TraceRequest.AnsweredWithFile)), None)
        if answered is None:
            raise NotFound("This answer has no file.")
        keys = self._keys_of(viewer, trace)
        name = (open_body(keys, trace.id, answered) or {}).get("attachment_name", "")
        with self.ledger.transaction() as session:
            chunks = self.files.read(session, answered.attachment, keys[answered.key_version])
        return name or "attachment", answered.attachment["type"], chunks

    def close(self, viewer: Viewer, trace_id: UUID, feedback: str = "") -> None:
        """The requester closes an answered request, with feedback on the answer."""
        trace, key = self._for_change(viewer, trace_id)
        text = str(feedback or "").strip()
        if len(text) > 20_000:
            raise InvalidInput("At most %(limit)s characters.", field="feedback", limit=20_000)
        trace.close(viewer.actor, self._today(),
                    self._seal(key, trace, TraceRequest.Closed, {"feedback": text}))
        self._save(trace)

    def change_deadline(self, viewer: Viewer, trace_id: UUID, deadline: date | str) -> None:
        """The requester moves the deadline (a `date` or YYYY-MM-DD)."""
        trace, _ = self._for_change(viewer, trace_id)
        try:
            day = deadline if isinstance(deadline, date) else date.fromisoformat(
                str(deadline or "").strip())
        except ValueError:
            raise InvalidInput("Enter a date as YYYY-MM-DD.", field="deadline") from None
        trace.change_deadline(viewer.actor, self._today(), day)
        self._save(trace)

    def attach_answer_to_case(self, viewer: Viewer, trace_id: UUID,
                              expected_case_version: int) -> str:
        """Adds a traced answer to the case as a route leg; returns the leg's part id.

        The leg and the trace's record of it commit in one transaction, or neither does.
        """
        trace, key = self._for_change(viewer, trace_id)
        trace.check_attachable(viewer.actor)
        answered = next(e for e in self.ledger.events.get(trace.id)
                        if isinstance(e, TraceRequest.Answered))
        answer = open_body({key.version: key}, trace.id, answered) or {}
        if not answer.get("destination"):
            raise InvalidInput("The answer names no destination to route the items to.",
                               field="destination")
        notes = f"Traced by {trace.requested} (trace request {trace.id})"
        if answer.get("recipient"):
            notes += f", to {answer['recipient']}"
        if answer.get("licence"):
            notes += f", licence {answer['licence']}"
        notes = f"{notes}. {answer.get('text', '')}".strip()[:2000]
        leg = {"origin": trace.requested, "destination": answer["destination"],
               "mode": "unknown", "date": answer.get("date", ""), "notes": notes}
        with self.ledger.transaction():
            part_id = self.cases.add_part(viewer, UUID(trace.case_id), expected_case_version,
                                          "leg", leg)
            trace.attach_answer(viewer.actor, self._today(), part_id)
            self.ledger.save(trace)
        return part_id

    # Queries

    def view(self, viewer: Viewer, trace_id: UUID) -> TraceView:
        """The request as the viewer's state can read it now."""
        trace = self._readable(viewer, trace_id)
        keys = self._keys_of(viewer, trace)
        view = TraceView(
            id=str(trace.id), case_id=trace.case_id, requester=trace.requester,
            requested=trace.requested, item_ids=list(trace.item_ids), status=trace.status,
            outcome=trace.outcome, sent_on=trace.sent_on, deadline=trace.deadline,
            acknowledged_on=trace.acknowledged_on, answered_on=trace.answered_on,
            closed_on=trace.closed_on, overdue=trace.overdue(self._today()),
            recipients=list(trace.recipients), version=trace.version,
            attached_part_id=trace.attached_part_id,
            case_shredded=self.cases.is_shredded(UUID(trace.case_id)))
        for event in self.ledger.events.get(trace.id):
            self._fold(view, event, open_body(keys, trace.id, event))
        return view

    def items_of(self, viewer: Viewer, rows: Iterable[SealedRequest]
                 ) -> dict[str, list[dict[str, Any]]]:
        """The items each request was sent about, by trace id, opened from the sealed
        request with the viewer's keys (the page's wrapped keys in one query); none where
        the viewer's state holds no key (a shredded case's requests)."""
        rows = [r for r in rows if r.request_token]
        wrapped = self.cases.sealing.wrapped_of(viewer, (r.trace_id for r in rows))
        found: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            blob = wrapped.get(row.trace_id, {}).get(1)
            if blob is None:
                continue
            try:
                key = self.cases.sealing.unwrap(viewer, row.trace_id, blob)
                content = open_json(key, base64.b64decode(row.request_token),
                                    body_context(row.trace_id, 1, TraceRequest.Sent))
            except (CryptoError, ValueError):
                continue
            found[row.trace_id] = list(content["items"].values())
        return found

    # Helpers

    @staticmethod
    def _fold(view: TraceView, event: Any, content: dict[str, Any] | None) -> None:
        if event.body and content is None:
            view.unreadable_events += 1
            return
        stamp = {"on": event.on, "state": event.actor_state}
        if isinstance(event, TraceRequest.Sent):
            view.questions = content["questions"]
            view.items = content["items"]
            view.shared_with_case_readers = content["shared_with_case_readers"]
        elif isinstance(event, TraceRequest.MoreInfoRequested):
            view.more_info.append(dict(content, **stamp))
        elif isinstance(event, TraceRequest.InformationSupplied):
            view.supplied.append(dict(content, **stamp))
        elif isinstance(event, TraceRequest.Answered):
            view.answer = dict(content, outcome=event.outcome, **stamp)
            if isinstance(event, TraceRequest.AnsweredWithFile):
                view.answer.update(attachment_type=event.attachment["type"],
                                   attachment_size=event.attachment["size"])
        elif isinstance(event, TraceRequest.Closed):
            view.feedback = content["feedback"]

    def _today(self) -> date:
        return day_of(self.clock().astimezone(self.zone))

    def _requestable(self, viewer: Viewer, code: str) -> str:
        code = str(code or "").strip().upper()
        if not code:
            raise InvalidInput("Name the state to ask.", field="requested_state")
        try:
            state = self.directory.state(code)
        except NotFound:
            raise InvalidInput("%(code)s is not a registered state.", field="requested_state",
                               code=code) from None
        if code == SECRETARIAT_CODE or state.status not in (STATE_PARTY, SIGNATORY):
            raise InvalidInput("%(code)s has no national contact point to ask.",
                               field="requested_state", code=code)
        if code == viewer.state:
            raise InvalidInput("A state does not send a trace request to itself.",
                               field="requested_state")
        return code

    def _get(self, trace_id: UUID) -> TraceRequest:
        return self.ledger.get_as(TraceRequest, trace_id, NotFound("No such trace request."))

    def _readable(self, viewer: Viewer, trace_id: UUID) -> TraceRequest:
        trace = self._get(trace_id)
        if not trace.readable_by(viewer.state):
            raise NotFound("No such trace request.")
        return trace

    def _for_change(self, viewer: Viewer, trace_id: UUID) -> tuple[TraceRequest, CaseKey]:
        """A request the viewer's state reads and the viewer may act on, with its key.

        Which party acts is the aggregate's rule; the role is checked here.
        """
        trace = self._readable(viewer, trace_id)
        if viewer.state not in (trace.requester, trace.requested) or not viewer.has(ANALYST):
            raise Forbidden("Only analysts of the two states act on a trace request.")
        keys = self._keys_of(viewer, trace)
        if trace.key_version not in keys:
            raise Conflict("The case of this trace request was crypto-shredded; the request "
                           "cannot change.")
        return trace, keys[trace.key_version]

    def _keys_of(self, viewer: Viewer, trace: TraceRequest) -> dict[int, CaseKey]:
        return self.cases.sealing.keys(
            viewer, trace.id, Forbidden("Your state's keys do not open this trace request."))

    @staticmethod
    def _seal(key: CaseKey, trace: TraceRequest, event_class: type,
              content: dict[str, Any]) -> bytes:
        """The body of the trace request's next event."""
        return seal_body(key, trace.id, trace.version + 1, event_class, content)

    def _save(self, trace: TraceRequest, granted: Grant | None = None,
              case_id: UUID | None = None) -> None:
        with self.ledger.transaction() as session:
            self.ledger.save(trace)
            if granted and granted.wrapped:
                self.keystore.put_wrapped_keys(session, str(trace.id), granted.wrapped)
            if case_id is not None:
                self.keystore.link_trace_request(session, str(trace.id), str(case_id))


def link_trace_requests(ledger: Ledger, keystore: KeyStore) -> None:
    """Links every trace request of the log to its case: once, when the store is prepared,
    for a store made before the links were kept (`KeyStore.create_tables` tells). Another
    process linking at the same time makes this one stop."""
    with suppress(Conflict), ledger.transaction() as session:
        for trace_id in ledger.ids_created_by(TraceRequest.Sent):
            trace = ledger.repository.get(trace_id)
            keystore.link_trace_request(session, str(trace_id), trace.case_id)
