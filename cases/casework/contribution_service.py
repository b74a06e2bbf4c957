"""Contributions to a case (issue 21): states that read a case add what they know to it.

Every reading user (analyst or reviewer) of a state that reads the case, owner included, may
contribute; the contributing state revises or withdraws its own; the owner hides one from the
case page with a reason. Each is a signed event of the contribution's own aggregate, sealed
under the case's current key; a contribution is read only while its state reads the case.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from cases.casework.attachment_store import AttachmentStore
from cases.casework.attachments import IMAGES, Upload
from cases.casework.case import Case
from cases.casework.case_service import Cases
from cases.casework.contribution import Contribution, validate_contribution
from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from cases.kernel.keystore import KeyStore
from cases.kernel.ledger import Ledger
from cases.kernel.sealing import open_body, seal_body
from cases.kernel.viewer import ANALYST, REVIEWER, Viewer
from cases.meetings.meeting import CLOSED, Meeting
from crypto import CaseKey, CryptoError

MISSING = NotFound("No such contribution.")


@dataclass(frozen=True)
class ContributionView:
    """A contribution as a reader sees it: its latest text (the hiding reason if hidden)."""

    id: str
    case_id: str
    state: str
    user: str
    kind: str
    written_on: datetime
    revised_on: datetime | None
    text: str
    withdrawn: bool
    hidden: bool
    hidden_reason: str
    version: int
    attachment_name: str = ""
    attachment_type: str = ""  # "" when there is none
    attachment_size: int = 0
    meeting: str = ""  # the informal meeting it was said at, if any
    # Said at a meeting under Chatham House: `state` and `user` are blank for the reader.
    unattributed: bool = False

    @property
    def image(self) -> bool:
        return self.attachment_type in IMAGES


class Contributions:
    def __init__(self, ledger: Ledger, keystore: KeyStore, cases: Cases,
                 files: AttachmentStore) -> None:
        self.ledger, self.keystore, self.cases, self.files = ledger, keystore, cases, files

    def contribute(self, viewer: Viewer, case_id: UUID, kind: str, text: str,
                   upload: Upload | None = None, meeting: UUID | None = None) -> UUID:
        """Adds a contribution (with a file, if given) to a case the viewer's state reads;
        returns its id. The file's chunks and the event are stored together, or not at all.
        ``meeting``: said in the case's discussion at that informal meeting, where the case
        is on the agenda and the viewer's state takes part."""
        case, keys = self.cases.keys_to_read(viewer, case_id)  # a non-reader learns nothing
        self._require_reader(viewer)
        if meeting is not None:
            held = self.ledger.get_as(Meeting, meeting, NotFound("No such meeting."))
            if viewer.state not in held.participants or str(case.id) not in held.agenda:
                raise Forbidden("Only participants discuss a case tabled at the meeting.")
            if held.status == CLOSED:
                raise Conflict("The meeting is closed.")
        content = validate_contribution(kind, text, attached=upload is not None)
        data, mime = (self.files.checked(upload) if upload is not None else (b"", ""))
        contribution_id, key = uuid.uuid4(), keys[case.key_version]
        with self.ledger.transaction() as session:
            attachment: dict[str, Any] = {}
            if upload is not None:
                attachment = self.files.store(session, str(case.id), key, data, mime)
                content["attachment_name"] = upload.name[:200]
            first = Contribution.ContributedAtMeeting if meeting else Contribution.Contributed
            body = seal_body(key, contribution_id, 1, first, content)
            self.ledger.save(Contribution.contribute(
                viewer.actor, contribution_id, case.id, kind, case.key_version, body,
                attachment, str(meeting) if meeting is not None else ""))
            self.keystore.link_contribution(session, str(contribution_id), str(case.id))
        return contribution_id

    def attachment(self, viewer: Viewer,
                   contribution_id: UUID) -> tuple[str, str, Iterator[bytes]]:
        """A contribution's file for a state that reads its case now: name, type, bytes."""
        contribution = self.ledger.get_as(Contribution, contribution_id, MISSING)
        if not contribution.attachment or contribution.withdrawn or contribution.hidden:
            raise NotFound("This contribution has no attachment to show.")
        try:
            _, keys = self.cases.keys_to_read(viewer, UUID(contribution.case_id))
        except NotFound:
            raise MISSING from None
        first = next(iter(self.ledger.events.get(contribution.id)))
        name = (open_body(keys, contribution.id, first) or {}).get("attachment_name", "")
        with self.ledger.transaction() as session:
            chunks = self.files.read(session, contribution.attachment, keys[first.key_version])
        return name or "attachment", contribution.attachment["type"], chunks

    def revise(self, viewer: Viewer, contribution_id: UUID, text: str) -> None:
        contribution, case, case_key = self._to_change(viewer, contribution_id)
        self._require_reader(viewer)
        content = validate_contribution(contribution.kind, text)
        contribution.revise(viewer.actor, case.key_version, seal_body(
            case_key, contribution.id, contribution.version + 1, Contribution.Revised, content))
        self.ledger.save_all(contribution)

    def withdraw(self, viewer: Viewer, contribution_id: UUID) -> None:
        contribution, _, _ = self._to_change(viewer, contribution_id)
        self._require_reader(viewer)
        contribution.withdraw(viewer.actor)
        self.ledger.save_all(contribution)

    def hide(self, viewer: Viewer, contribution_id: UUID, reason: str) -> None:
        """The case's owner hides a contribution from the case page, saying why."""
        contribution, case, case_key = self._to_change(viewer, contribution_id)
        if not viewer.has(ANALYST) or viewer.state != case.owner:
            raise Forbidden("Only analysts of the case's owner state hide a contribution.")
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("Say why it is hidden: the reason is shown in its place.",
                               field="reason")
        contribution.hide(viewer.actor, case.key_version, seal_body(
            case_key, contribution.id, contribution.version + 1, Contribution.Hidden,
            {"reason": reason[:2000]}))
        self.ledger.save_all(contribution)

    def read(self, viewer: Viewer, contribution_id: UUID) -> ContributionView:
        """One contribution, if the viewer's state reads its case now."""
        contribution = self.ledger.get_as(Contribution, contribution_id, MISSING)
        try:
            _, keys = self.cases.keys_to_read(viewer, UUID(contribution.case_id))
        except NotFound:
            raise MISSING from None
        found = self._view(contribution.id, keys, self.cases.usernames(), None)
        assert found is not None  # it exists: it has a first event
        return self._as_seen(viewer, found, {})

    def thread(self, viewer: Viewer, case_id: UUID, at: datetime | None = None,
               version: int | None = None, meeting: UUID | None = None,
               audit: bool = False) -> list[ContributionView]:
        """The contributions to a case the viewer's state reads, oldest first (as they were
        at ``at``, if given: those written by then, in their state then; an auditor's time
        travel gives the case's ``version`` then, whose readers are the ones that count).
        ``meeting``: only what was said at that meeting. What was said at a meeting under
        Chatham House comes without its state and user, but to its own state and (``audit``)
        to auditors."""
        case, keys = self.cases.keys_to_read(viewer, case_id, version)
        with self.ledger.transaction() as session:
            ids = self.keystore.contributions_to(session, str(case.id))
        names = self.cases.usernames()
        found = [view for contribution_id in ids
                 if (view := self._view(UUID(contribution_id), keys, names, at)) is not None
                 and (meeting is None or view.meeting == str(meeting))]
        modes: dict[str, bool] = {}
        return sorted((view if audit else self._as_seen(viewer, view, modes) for view in found),
                      key=lambda v: v.written_on)

    def _as_seen(self, viewer: Viewer, view: ContributionView,
                 modes: dict[str, bool]) -> ContributionView:
        """The view without its state and user when it was said at a Chatham House meeting
        and the viewer's state is not the one that said it."""
        if not view.meeting or view.state == viewer.state:
            return view
        if view.meeting not in modes:
            held = self.ledger.get_as(Meeting, view.meeting, NotFound("No such meeting."))
            modes[view.meeting] = held.chatham_house
        if not modes[view.meeting]:
            return view
        return replace(view, state="", user="", unattributed=True)

    def _view(self, contribution_id: UUID, keys: dict[int, CaseKey], names: Any,
              at: datetime | None) -> ContributionView | None:
        events = [e for e in self.ledger.events.get(contribution_id)
                  if at is None or e.timestamp <= at]
        if not events:
            return None
        first, text, reason, revised, withdrawn = events[0], "", "", None, False
        name = ""
        for event in events:
            try:
                opened = open_body(keys, contribution_id, event) or {}
            except CryptoError:
                opened = {}
            if isinstance(event, Contribution.Hidden):
                reason = opened.get("reason", "")
            elif isinstance(event, Contribution.Withdrawn):
                withdrawn = True
            else:
                text = opened.get("text", "")
                name = name or opened.get("attachment_name", "")
                revised = event.timestamp if event is not first else None
        hidden = any(isinstance(e, Contribution.Hidden) for e in events)
        return ContributionView(
            id=str(contribution_id), case_id=first.case_id, state=first.state,
            user=names(first.actor_user), kind=first.kind, written_on=first.timestamp,
            revised_on=revised, text="" if withdrawn or hidden else text, withdrawn=withdrawn,
            hidden=hidden, hidden_reason=reason, version=events[-1].originator_version,
            attachment_name=name, attachment_type=first.attachment.get("type", ""),
            attachment_size=first.attachment.get("size", 0),
            meeting=getattr(first, "meeting", ""))

    def _to_change(self, viewer: Viewer,
                   contribution_id: UUID) -> tuple[Contribution, Case, CaseKey]:
        """The contribution, if its case is read by the viewer's state, the case, and the
        case's current key (what a change is sealed under)."""
        contribution = self.ledger.get_as(Contribution, contribution_id, MISSING)
        try:
            case, keys = self.cases.keys_to_read(viewer, UUID(contribution.case_id))
        except NotFound:
            raise MISSING from None
        return contribution, case, keys[case.key_version]

    @staticmethod
    def _require_reader(viewer: Viewer) -> None:
        if not (viewer.has(ANALYST) or viewer.has(REVIEWER)):
            raise Forbidden("Only analysts and reviewers contribute to a case.")
