"""The Meetings application service: convening, tabling cases, outcomes, lessons and consent.

Rules: the secretariat convenes and manages participants; a case's owner tables it, which
wraps its key for every participant; a state joining later reads it only once the owner
confirms; a state leaving is rotated out of every case it read only through the meeting.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from cases.casework.attachment_store import AttachmentStore
from cases.casework.attachments import Upload
from cases.casework.case import MEETING
from cases.casework.case_service import Cases
from cases.casework.view import HistoryEntry, history_entry
from cases.identity.directory import SECRETARIAT_CODE, SIGNATORY, STATE_PARTY
from cases.identity.directory_service import Directory
from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from cases.kernel.keystore import KeyStore
from cases.kernel.ledger import Ledger
from cases.kernel.sealing import meeting_context, open_json, seal_json
from cases.kernel.viewer import ANALYST, AUDITOR, SECRETARIAT, STATE_ADMIN, Viewer
from cases.meetings.meeting import MEETING_STATUSES, Meeting
from crypto import CaseKey, CryptoError


def meeting_text(text: str) -> str:
    """An outcome or a lesson: required, and refused (not cut) beyond 20000 characters."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("This field is required.", field="text")
    if len(text) > 20_000:
        raise InvalidInput("At most %(limit)s characters.", field="text", limit=20_000)
    return text


# What the meetings list sorts by (titles and dates are clear facts of a meeting).
LISTING_SORTS: dict[str, Any] = {
    "date": lambda m: m.date, "title": lambda m: m.title.casefold(),
    "status": lambda m: MEETING_STATUSES.index(m.status)}


@dataclass
class MeetingView:
    id: str
    title: str
    date: str
    convening_body: str
    participants: list[str]
    status: str
    version: int
    agenda: dict[str, str]
    outcomes: dict[str, list[str]] = field(default_factory=dict)
    # case id -> the files of its outcomes: {version, name, type, size} (version: the event's)
    outcome_files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lessons: list[dict[str, Any]] = field(default_factory=list)
    # Cases on the agenda that were crypto-shredded: their outcomes cannot be opened by anyone.
    shredded: list[str] = field(default_factory=list)
    # The viewer's own tabled cases -> participants who joined since and do not read them yet
    # (they read one only once its owner agrees).
    waiting: dict[str, list[str]] = field(default_factory=dict)
    chatham_house: bool = False


class Meetings:
    """Commands and queries on informal meetings, for a given `Viewer`."""

    def __init__(self, ledger: Ledger, keystore: KeyStore, directory: Directory,
                 cases: Cases, files: AttachmentStore | None = None) -> None:
        self.ledger = ledger
        self.keystore = keystore
        self.files = files or AttachmentStore(keystore)  # outcomes' files
        self.directory = directory
        self.cases = cases

    def convene(self, viewer: Viewer, title: str, day: str, convening_body: str,
                participants: list[str]) -> UUID:
        self._require(viewer, SECRETARIAT, Forbidden("Only the secretariat convenes meetings."))
        title = (title or "").strip()
        if not title:
            raise InvalidInput("This field is required.", field="title")
        convening_body = (convening_body or "").strip()
        for name, value in (("title", title), ("convening_body", convening_body)):
            if len(value) > 200:  # refused, not cut: what is stored is what was typed
                raise InvalidInput("At most %(limit)s characters.", field=name, limit=200)
        try:
            when = date.fromisoformat((day or "").strip()).isoformat()
        except ValueError:
            raise InvalidInput("Enter a date as YYYY-MM-DD.", field="date") from None
        states = [self._participant(code) for code in participants or []]
        if len(set(states)) < 2:
            raise InvalidInput("A meeting needs at least two participating states.",
                               field="participants")
        meeting_id = uuid.uuid4()
        self.ledger.save_all(Meeting.convene(viewer.actor, meeting_id, title, when,
                                             convening_body, sorted(set(states))))
        return meeting_id

    def admit(self, viewer: Viewer, meeting_id: UUID, state: str) -> None:
        """A state joins; it reads tabled cases only once their owners confirm."""
        self._require(viewer, SECRETARIAT,
                      Forbidden("Only the secretariat manages participants."))
        meeting = self._get(meeting_id)
        meeting.admit(viewer.actor, self._participant(state))
        self.ledger.save_all(meeting)

    def release(self, viewer: Viewer, meeting_id: UUID, state: str) -> None:
        """A state leaves: every case it read only through this meeting moves to a new key."""
        meeting = self._get(meeting_id)
        code = (state or "").strip().upper()
        if not (viewer.has(SECRETARIAT) or (viewer.has(STATE_ADMIN) and viewer.state == code)):
            raise Forbidden("Only the secretariat or the state itself ends its participation.")
        meeting.release(viewer.actor, code)
        with self.ledger.transaction():
            self.ledger.save(meeting)
            for case_id in meeting.agenda:
                self.cases.drop_meeting_readers(viewer.actor, UUID(case_id), str(meeting.id),
                                                [code])

    def change_status(self, viewer: Viewer, meeting_id: UUID, status: str) -> None:
        self._require(viewer, SECRETARIAT,
                      Forbidden("Only the secretariat changes a meeting's status."))
        meeting = self._get(meeting_id)
        meeting.change_status(viewer.actor, status)
        self.ledger.save_all(meeting)

    def set_chatham_house(self, viewer: Viewer, meeting_id: UUID, on: bool) -> None:
        """Whether what participants say in the meeting's discussions is shown without the
        state that said it (the signed events still name it, for auditors)."""
        self._require(viewer, SECRETARIAT,
                      Forbidden("Only the secretariat sets a meeting's Chatham House mode."))
        meeting = self._get(meeting_id)
        meeting.set_chatham_house(viewer.actor, on)
        self.ledger.save_all(meeting)

    def table_case(self, viewer: Viewer, meeting_id: UUID, case_id: UUID) -> None:
        """The owner puts a case on the agenda and shares it with every participant. Only
        an analyst of the owner state tables it: reading a case (on the portal, say) is not
        owning it, and the agenda records the owner."""
        meeting = self._get(meeting_id)
        meeting.table(viewer.actor, str(case_id), viewer.state)  # saved only if all holds
        case = self.cases.view(viewer, case_id)  # NotFound unless the viewer's state reads it
        if not self.cases.may_change(viewer, case.owner):
            raise Forbidden("Only an analyst of the state that owns the case tables it "
                            "(%(owner)s).", field="case_id", owner=case.owner)
        with self.ledger.transaction():
            if not set(self._others(meeting, viewer)) <= set(case.recipients):
                self.cases.share(viewer, case_id, case.version, MEETING,
                                 self._others(meeting, viewer), meeting=str(meeting.id))
            self.ledger.save(meeting)

    def confirm_access(self, viewer: Viewer, meeting_id: UUID, case_id: UUID) -> list[str]:
        """The owner lets participants who joined after tabling read the case."""
        meeting = self._get(meeting_id)
        if str(case_id) not in meeting.agenda:
            raise InvalidInput("This case is not on the agenda.", field="case_id")
        case = self.cases.view(viewer, case_id)
        return self.cases.share(viewer, case_id, case.version, MEETING,
                                self._others(meeting, viewer), meeting=str(meeting.id))

    def record_outcome(self, viewer: Viewer, meeting_id: UUID, case_id: UUID,
                       text: str, upload: Upload | None = None) -> None:
        """The outcome of a case's discussion, sealed for whoever reads that case, with a
        file if given (stored with the event, or not at all)."""
        meeting = self._get(meeting_id)
        case = self.cases.view(viewer, case_id)  # NotFound unless the viewer's state reads it
        if not (viewer.has(SECRETARIAT) or self.cases.may_change(viewer, case.owner)):
            raise Forbidden("The convenor or the case's owner records the outcome.")
        if case.shredded_on:
            raise Conflict("This case was crypto-shredded; it cannot change.")
        content = {"text": meeting_text(text)}
        key = self._case_key(viewer, case_id, case.key_version)
        data, mime = self.files.checked(upload) if upload is not None else (b"", "")
        with self.ledger.transaction() as session:
            attachment = self.files.store(session, str(case_id), key, data, mime) \
                if upload is not None else None
            if upload is not None:
                content["attachment_name"] = upload.name[:200]
            event = Meeting.OutcomeRecordedWithFile if attachment else Meeting.OutcomeRecorded
            body = seal_json(key, content, meeting_context(meeting.id, meeting.version + 1,
                                                           event))
            meeting.record_outcome(viewer.actor, str(case_id), key.version, body, attachment)
            self.ledger.save(meeting)

    def outcome_file(self, viewer: Viewer, meeting_id: UUID,
                     version: int) -> tuple[str, str, Iterator[bytes]]:
        """The file of the outcome recorded at ``version`` of the meeting, for the states
        that read its case: name, type and bytes."""
        meeting = self._get(meeting_id)
        if not self._may_see(viewer, meeting):
            raise Forbidden("Only participants, the secretariat and auditors see this meeting.")
        event = next((e for e in self.ledger.events.get(meeting.id)
                      if e.originator_version == version
                      and isinstance(e, Meeting.OutcomeRecordedWithFile)), None)
        if event is None:
            raise NotFound("No outcome with a file at this version.")
        opened = self._opened(viewer, event.case_id, event)
        if opened is None:
            raise NotFound("No outcome with a file at this version.")
        key = self._case_key(viewer, UUID(event.case_id), event.key_version)
        with self.ledger.transaction() as session:
            chunks = self.files.read(session, event.attachment, key)
        return opened.get("attachment_name") or "attachment", event.attachment["type"], chunks

    def propose_lesson(self, viewer: Viewer, meeting_id: UUID, text: str,
                       concerned: list[str]) -> str:
        """A lesson or trend, sealed for the participants; returns its id."""
        self._require(viewer, ANALYST, Forbidden("Only analysts propose lessons."))
        meeting = self._get(meeting_id)
        text = meeting_text(text)
        states = sorted({self._participant(code, "concerned") for code in concerned or []})
        lesson_id = str(uuid.uuid4())
        key = CaseKey.generate(1)
        granted = self.cases.sealing.grant(lesson_id, [key], meeting.participants)
        body = seal_json(key, {"text": text},
                         meeting_context(meeting.id, meeting.version + 1, Meeting.LessonProposed))
        meeting.propose_lesson(viewer.actor, lesson_id, states, granted.grants, body)
        with self.ledger.transaction() as session:
            self.ledger.save(meeting)
            self.keystore.put_wrapped_keys(session, lesson_id, granted.wrapped)
        return lesson_id

    def consent(self, viewer: Viewer, meeting_id: UUID, lesson_id: str, given: bool) -> None:
        if not (viewer.has(ANALYST) or viewer.has(STATE_ADMIN)):
            raise Forbidden("An analyst or state admin gives its state's consent.")
        meeting = self._get(meeting_id)
        meeting.consent(viewer.actor, lesson_id, given)
        self.ledger.save_all(meeting)

    def listing(self, viewer: Viewer, sort: str = "date",
                descending: bool = True) -> list[Meeting]:
        """The meetings the viewer may see, by one of `LISTING_SORTS` (newest date first by
        default); ties go by date then id, in the same direction. A status sorts in the
        order of the meeting's life; titles ignore case."""
        found = self.ledger.all_of(Meeting)
        first = LISTING_SORTS[sort]
        return sorted((m for m in found if self._may_see(viewer, m)),
                      key=lambda m: (first(m), m.date, str(m.id)), reverse=descending)

    @staticmethod
    def _may_see(viewer: Viewer, meeting: Meeting) -> bool:
        return (viewer.state in meeting.participants or viewer.has(SECRETARIAT)
                or viewer.has(AUDITOR))

    def view(self, viewer: Viewer, meeting_id: UUID) -> MeetingView:
        """Clear facts for participants, the secretariat and auditors; sealed parts if readable."""
        meeting = self._get(meeting_id)
        if not self._may_see(viewer, meeting):
            raise Forbidden("Only participants, the secretariat and auditors see this meeting.")
        view = MeetingView(id=str(meeting.id), title=meeting.title, date=meeting.date,
                           convening_body=meeting.convening_body,
                           participants=list(meeting.participants), status=meeting.status,
                           version=meeting.version, agenda=dict(meeting.agenda),
                           chatham_house=meeting.chatham_house,
                           shredded=[c for c in meeting.agenda
                                     if self.cases.is_shredded(UUID(c))])
        for case_id, owner in meeting.agenda.items():
            if owner == viewer.state and case_id not in view.shredded:
                waiting = self.cases.not_yet_readers(viewer, UUID(case_id),
                                                     meeting.participants)
                if waiting:
                    view.waiting[case_id] = waiting
        for event in self.ledger.events.get(meeting.id):
            if isinstance(event, Meeting.OutcomeRecorded):
                text = self._open(viewer, event.case_id, event)
                if text is not None:
                    view.outcomes.setdefault(event.case_id, []).append(text)
                if text is not None and isinstance(event, Meeting.OutcomeRecordedWithFile):
                    opened = self._opened(viewer, event.case_id, event) or {}
                    view.outcome_files.setdefault(event.case_id, []).append({
                        "version": event.originator_version,
                        "name": opened.get("attachment_name", ""),
                        "type": event.attachment["type"], "size": event.attachment["size"]})
            elif isinstance(event, Meeting.LessonProposed):
                lesson = meeting.lessons[event.lesson_id]
                view.lessons.append({
                    "id": event.lesson_id, "concerned": lesson["concerned"],
                    "consents": sorted(lesson["consents"]),
                    "complete": meeting.consent_complete(event.lesson_id),
                    "text": self._open(viewer, event.lesson_id, event)})
        return view

    def history(self, viewer: Viewer, meeting_id: UUID) -> list[HistoryEntry]:
        """Every event of the meeting with its clear header (content stays sealed)."""
        self.view(viewer, meeting_id)  # the same rule on who may see the meeting
        names = self.cases.usernames()
        return [history_entry(e, None, names) for e in self.ledger.events.get(UUID(str(
            meeting_id)))]

    # Helpers

    def _open(self, viewer: Viewer, key_owner: str, event: Any) -> str | None:
        """An outcome's or a lesson's text, sealed under a key of ``key_owner`` (the case or
        the lesson); None when the viewer's state holds no such key."""
        opened = self._opened(viewer, key_owner, event)
        return None if opened is None else str(opened["text"])

    def _opened(self, viewer: Viewer, key_owner: str, event: Any) -> dict[str, Any] | None:
        version = getattr(event, "key_version", 1)
        try:
            key = self._case_key(viewer, UUID(key_owner), version)
            return dict(open_json(key, event.body_bytes(), meeting_context(
                event.originator_id, event.originator_version, type(event))))
        except (CryptoError, Forbidden):
            return None

    def _case_key(self, viewer: Viewer, owner_id: UUID, version: int) -> CaseKey:
        keys = self.cases.sealing.keys(viewer, owner_id,
                                       Forbidden("Your state holds no key for this."))
        if version not in keys:
            raise Forbidden("Your state holds no key for this.")
        return keys[version]

    def _participant(self, code: str, field: str = "participants") -> str:
        code = (code or "").strip().upper()
        if not code:
            raise InvalidInput("Name a state by its ISO 3166-1 alpha-3 code (e.g. FRA).",
                               field=field)
        try:
            state = self.directory.state(code)
        except NotFound:
            raise InvalidInput("%(code)s is not a registered state.", field=field,
                               code=code) from None
        if state.status not in (STATE_PARTY, SIGNATORY) and code != SECRETARIAT_CODE:
            raise InvalidInput("%(code)s cannot take part.", field=field, code=code)
        return code

    @staticmethod
    def _others(meeting: Meeting, viewer: Viewer) -> list[str]:
        return [s for s in meeting.participants if s != viewer.state]

    def _get(self, meeting_id: UUID) -> Meeting:
        return self.ledger.get_as(Meeting, meeting_id, NotFound("No such meeting."))

    @staticmethod
    def _require(viewer: Viewer, role: str, refusal: Forbidden) -> None:
        if not viewer.has(role):
            raise refusal
