"""The Cases application service: one method per command and query, with the access rules.

Rules: only analysts of the owner state change a case; only states holding a wrapped case key
read its content (the secretariat included: only when a state shares with it); a viewer who
cannot read a case is told it does not exist. Every refusal stores nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from crypto import CaseKey, CryptoError, canonical_json, sha256_hex, unwrap_case_key, wrap_case_key

from .case import BILATERAL, MEETING, NATIONAL, PORTAL, Case
from .content import validate_actor, validate_item, validate_leg, validate_note, validate_summary
from .directory import SECRETARIAT_CODE, SIGNATORY, STATE_PARTY
from .directory_service import Directory
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .keystore import KeyStore
from .ledger import Actor, Ledger
from .tracing import TraceRequest
from .view import CaseView, HistoryEntry, fold_view, history_entry
from .viewer import ANALYST, AUDITOR, STATE_ADMIN, Viewer

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


VALIDATORS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "item": validate_item, "actor": validate_actor, "leg": validate_leg, "note": validate_note,
}


def body_context(case_id: UUID, version: int, event_class: type) -> bytes:
    """Associated data of a sealed body: it cannot be moved to another case, version or type."""
    return canonical_json({"case": str(case_id), "version": version,
                           "type": get_topic(event_class)})


def title_context(case_id: UUID, version: int) -> bytes:
    return canonical_json({"case": str(case_id), "version": version, "field": "title"})


class SealedTitle(Protocol):
    """A case's title as the case index holds it (sealed; see `Cases.titles`)."""

    case_id: str
    title_key_version: int
    title_token: str


class Cases:
    """Commands and queries on cases, for a given `Viewer`."""

    def __init__(self, ledger: Ledger, keystore: KeyStore, directory: Directory,
                 clock: Clock = utc_now) -> None:
        self.ledger = ledger
        self.keystore = keystore
        self.directory = directory
        self.clock = clock  # retention periods are measured against it
        self._usernames: dict[str, str] = {}  # user id -> name, see `usernames`

    # Commands

    def open_case(self, viewer: Viewer, summary: dict[str, Any]) -> UUID:
        """Logs a new case, readable by the viewer's state only (tier `national`)."""
        if not viewer.has(ANALYST):
            raise Forbidden("Only analysts log cases.")
        content = validate_summary(summary)
        case_id = uuid.uuid4()
        key = CaseKey.generate(1)
        grants, wrapped = self.grant_keys(case_id, [key], [viewer.state])
        case = Case.open(viewer.actor, case_id, grants,
                         title=self._seal_title(key, case_id, 1, content["title"]),
                         body=key.seal(json.dumps(content).encode(),
                                       body_context(case_id, 1, Case.Opened)))
        self._save(case, wrapped)
        return case_id

    def revise_summary(self, viewer: Viewer, case_id: UUID, expected_version: int,
                       summary: dict[str, Any]) -> None:
        case, key = self._for_change(viewer, case_id, expected_version)
        content = validate_summary(summary)
        version = case.version + 1
        case.revise_content(viewer.actor, self._seal_title(key, case_id, version,
                                                           content["title"]),
                            self._seal(key, case, Case.ContentRevised, content))
        self._save(case)

    def add_part(self, viewer: Viewer, case_id: UUID, expected_version: int, kind: str,
                 data: dict[str, Any]) -> str:
        """Adds an item, actor, route leg or evidence note; returns its part id."""
        case, key = self._for_change(viewer, case_id, expected_version)
        content = self._validated(kind, data)
        part_id = uuid.uuid4().hex[:12]
        case.add_part(viewer.actor, kind, part_id, self._seal(key, case, Case.PartAdded, content))
        self._save(case)
        return part_id

    def revise_part(self, viewer: Viewer, case_id: UUID, expected_version: int, kind: str,
                    part_id: str, data: dict[str, Any]) -> None:
        case, key = self._for_change(viewer, case_id, expected_version)
        content = self._validated(kind, data)
        case.revise_part(viewer.actor, kind, part_id,
                         self._seal(key, case, Case.PartRevised, content))
        self._save(case)

    def remove_part(self, viewer: Viewer, case_id: UUID, expected_version: int, kind: str,
                    part_id: str) -> None:
        case, _ = self._for_change(viewer, case_id, expected_version)
        case.remove_part(viewer.actor, kind, part_id)
        self._save(case)

    def change_status(self, viewer: Viewer, case_id: UUID, expected_version: int,
                      status: str, reason: str = "") -> None:
        case, key = self._for_change(viewer, case_id, expected_version)
        reason = (reason or "").strip()
        if len(reason) > 2000:  # refused, not cut: what is stored is what was typed
            raise InvalidInput("At most %(limit)s characters.", field="reason", limit=2_000)
        case.change_status(viewer.actor, status,
                           self._seal(key, case, Case.StatusChanged, {"reason": reason}))
        self._save(case)

    def share(self, viewer: Viewer, case_id: UUID, expected_version: int, tier: str,
              states: list[str] | None = None, meeting: str = "") -> list[str]:
        """Widens who can read: named states (bilateral), a meeting's participants (meeting,
        see `cases.meeting_service`) or all States Parties (portal).

        Every key version is wrapped for each new reader, so they read the whole history.
        Returns the states added.
        """
        case, _ = self._for_change(viewer, case_id, expected_version)
        if tier == MEETING and not meeting:
            raise InvalidInput("A case is shared to a meeting by tabling it there.",
                               field="tier")
        added = sorted(set(self.audience(viewer, tier, states)) - set(case.recipients))
        keys = list(self._keys_of(viewer, case).values())
        grants, wrapped = self.grant_keys(case_id, keys, added)
        case.share(viewer.actor, tier, added, grants, meeting)
        self._save(case, wrapped)
        return added

    def drop_meeting_readers(self, actor: Actor, case_id: UUID, meeting: str,
                             states: list[str]) -> None:
        """Rotates the key away from states that read the case only through ``meeting``.

        Called when they leave the meeting; wrapping needs only public keys, so the acting
        (convening) state records it without holding the case key.
        """
        case = self._get(case_id)
        gone = sorted(s for s in states if case.via_meeting.get(s) == meeting)
        if not gone or case.shredded:
            return
        remaining = sorted(set(case.recipients) - set(gone))
        others = [s for s in remaining if s != case.owner]
        key = CaseKey.generate(case.key_version + 1)
        grants, wrapped = self.grant_keys(case_id, [key], remaining)
        case.unshare(actor, gone, case.tier if others else NATIONAL, grants)
        self._save(case, wrapped)

    def unshare(self, viewer: Viewer, case_id: UUID, expected_version: int,
                states: list[str]) -> None:
        """Removes readers and rotates the case key: later events are sealed from them."""
        case, _ = self._for_change(viewer, case_id, expected_version)
        remaining = sorted(set(case.recipients) - set(states) | {case.owner})
        others = [s for s in remaining if s != case.owner]
        tier = NATIONAL if not others else (BILATERAL if case.tier == PORTAL else case.tier)
        key = CaseKey.generate(case.key_version + 1)
        grants, wrapped = self.grant_keys(case_id, [key], remaining)
        case.unshare(viewer.actor, list(states), tier, grants)
        self._save(case, wrapped)

    # Retention and crypto-shredding (state admins of the owner state)

    def set_retention(self, viewer: Viewer, case_id: UUID, keep_years: int | None) -> None:
        case = self._administered(viewer, case_id)
        case.set_retention(viewer.actor, keep_years)
        self._save(case)

    def request_shred(self, viewer: Viewer, case_id: UUID) -> None:
        """First step of crypto-shredding, once the retention rule allows it (by the clock);
        a second state admin confirms."""
        case = self._administered(viewer, case_id)
        case.request_shred(viewer.actor, self.clock())
        self._save(case)

    def withdraw_shred(self, viewer: Viewer, case_id: UUID) -> None:
        case = self._administered(viewer, case_id)
        case.withdraw_shred(viewer.actor)
        self._save(case)

    def confirm_shred(self, viewer: Viewer, case_id: UUID) -> tuple[int, int]:
        """Records `Case.Shredded` and deletes, in the same transaction, every wrapped key of
        the case and of its trace requests. Returns how many key rows went for each."""
        case = self._administered(viewer, case_id)
        case.confirm_shred(viewer.actor)
        traces = [str(t.id) for t in self.trace_requests_of(case.id)]
        with self.ledger.transaction() as session:
            self.ledger.save(case)
            case_rows = self.keystore.drop_keys(session, str(case_id))
            trace_rows = sum(self.keystore.drop_keys(session, t) for t in traces)
        self.keystore.scrub()
        return case_rows, trace_rows

    def trace_requests_of(self, case_id: UUID) -> list[TraceRequest]:
        """The trace requests sent about a case."""
        with self.ledger.transaction() as session:
            ids = self.keystore.trace_requests_of(session, str(case_id))
        return [self.ledger.repository.get(UUID(t)) for t in ids]

    def is_shredded(self, case_id: UUID) -> bool:
        """Whether the case's keys were deleted (a clear fact: no access check needed)."""
        return self._get(case_id).shredded

    def _administered(self, viewer: Viewer, case_id: UUID) -> Case:
        case = self._readable(viewer, case_id)
        if viewer.state != case.owner or not viewer.has(STATE_ADMIN):
            raise Forbidden("Only state admins of the owner state decide retention and "
                            "shredding.")
        return case

    # Queries

    @staticmethod
    def may_change(viewer: Viewer, owner: str) -> bool:
        """The rule on who changes a case: analysts of the state that owns it."""
        return viewer.state == owner and viewer.has(ANALYST)

    def audience(self, viewer: Viewer, tier: str, states: list[str] | None) -> list[str]:
        """The states a share would add, checked against the directory (for confirmation)."""
        if tier == PORTAL:
            return [s.code for s in self.directory.states()
                    if s.status == STATE_PARTY and s.code != viewer.state]
        if tier not in (BILATERAL, MEETING):
            raise InvalidInput("Share bilaterally or on the portal.", field="tier")
        codes = sorted({(c or "").strip().upper() for c in states or [] if (c or "").strip()})
        if not codes:
            raise InvalidInput("Name at least one state to share with.", field="states")
        for code in codes:
            try:
                state = self.directory.state(code)
            except NotFound:
                raise InvalidInput("%(code)s is not a registered state.", field="states",
                                   code=code) from None
            if state.status not in (STATE_PARTY, SIGNATORY) and code != SECRETARIAT_CODE:
                raise InvalidInput("%(code)s cannot receive cases.", field="states", code=code)
        return [c for c in codes if c != viewer.state]

    def view(self, viewer: Viewer, case_id: UUID, version: int | None = None) -> CaseView:
        """The case as the viewer's state can read it now, or as it was at ``version``
        (time travel: eventsourcing's versioned retrieval, from the nearest snapshot).

        At an earlier version the viewer's state must have been a reader then; it opens
        what the keys its state holds today open.
        """
        case = self._readable(viewer, case_id, version)
        keys = self._keys_of(viewer, case)
        events = list(self.ledger.events.get(case.id, lte=case.version))
        return fold_view(case, events, lambda event: self._open(keys, case.id, event),
                         self.usernames())

    def view_with_history(self, viewer: Viewer,
                          case_id: UUID) -> tuple[CaseView, list[HistoryEntry]]:
        """`view` and `history` together, as the case page shows them, from one read of the
        case, its keys and its events (each read is a round trip to the database)."""
        case = self._readable(viewer, case_id)
        keys = self._keys_of(viewer, case)
        events = list(self.ledger.events.get(case.id, lte=case.version))
        names = self.usernames()
        return (fold_view(case, events, lambda event: self._open(keys, case.id, event), names),
                [history_entry(e, self._open(keys, case.id, e), names) for e in events])

    def history(self, viewer: Viewer, case_id: UUID,
                version: int | None = None) -> list[HistoryEntry]:
        """Every event (up to ``version``): what changed for readers; the clear header only
        for auditors of other states."""
        case = self._get(case_id, version)
        if case.readable_by(viewer.state):
            keys = self._keys_of(viewer, case)
        elif viewer.has(AUDITOR):
            keys = {}
        else:
            raise NotFound("No such case.")
        names = self.usernames()
        return [history_entry(e, self._open(keys, case.id, e) if keys else None, names)
                for e in self.ledger.events.get(case.id, lte=case.version)]

    def titles(self, viewer: Viewer, rows: Iterable[SealedTitle]) -> dict[str, str | None]:
        """Opens the sealed titles of a page of the case index, by case id (None where the
        viewer cannot); the page's wrapped keys are read in one query."""
        rows = list(rows)
        with self.ledger.transaction() as session:
            wrapped = self.keystore.wrapped_keys_of(session, {r.case_id for r in rows},
                                                    viewer.state)
        return {r.case_id: self._open_title(viewer, r, wrapped.get(r.case_id, {}))
                for r in rows}

    @staticmethod
    def _open_title(viewer: Viewer, row: SealedTitle, wrapped: dict[int, bytes]) -> str | None:
        if row.title_key_version not in wrapped or not row.title_token:
            return None
        try:
            key = unwrap_case_key(wrapped[row.title_key_version], case_id=row.case_id,
                                  recipient=viewer.state, keyring=viewer.keyring)
            version, sealed = row.title_token.split(":", 1)
            return key.open(bytes.fromhex(sealed),
                            title_context(UUID(row.case_id), int(version))).decode()
        except (CryptoError, ValueError):
            return None

    # Helpers

    def _get(self, case_id: UUID, version: int | None = None) -> Case:
        return self.ledger.get_as(Case, case_id, NotFound("No such case."), version)

    def _readable(self, viewer: Viewer, case_id: UUID, version: int | None = None) -> Case:
        case = self._get(case_id, version)
        if not case.readable_by(viewer.state):
            raise NotFound("No such case.")
        return case

    def _for_change(self, viewer: Viewer, case_id: UUID, expected_version: int,
                    ) -> tuple[Case, CaseKey]:
        case = self._readable(viewer, case_id)
        if not self.may_change(viewer, case.owner):
            raise Forbidden("Only analysts of the owner state change this case.")
        try:
            stale = int(expected_version) != case.version
        except (TypeError, ValueError):
            raise InvalidInput("The case version is missing or not a number.",
                               field="expected_version") from None
        if stale:
            raise Conflict("This case was changed by someone else since you opened it; "
                           "reload it and make your change again.")
        if case.shredded:
            raise Conflict("This case was crypto-shredded; it cannot change.")
        keys = self._keys_of(viewer, case)
        return case, keys[case.key_version]

    def _keys_of(self, viewer: Viewer, case: Case) -> dict[int, CaseKey]:
        with self.ledger.transaction() as session:
            wrapped = self.keystore.wrapped_keys(session, str(case.id), viewer.state)
        try:
            return {version: unwrap_case_key(blob, case_id=str(case.id),
                                             recipient=viewer.state, keyring=viewer.keyring)
                    for version, blob in wrapped.items()}
        except CryptoError as error:
            raise Forbidden("Your state's keys do not open this case.") from error

    def grant_keys(self, case_id: UUID, keys: list[CaseKey], states: list[str],
               ) -> tuple[list[dict[str, Any]], dict[tuple[int, str], bytes]]:
        """Wraps each key for each state; returns the grants (for the event) and the blobs."""
        grants, wrapped = [], {}
        for state in states:
            public = self.directory.state(state).public_keys
            for key in keys:
                blob = wrap_case_key(key, case_id=str(case_id), recipient=state,
                                     recipient_keys=public)
                wrapped[(key.version, state)] = blob
                grants.append({"recipient": state, "key_version": key.version,
                               "wrapped_sha256": sha256_hex(blob)})
        return grants, wrapped

    def _seal(self, key: CaseKey, case: Case, event_class: type, content: dict) -> bytes:
        return key.seal(json.dumps(content).encode(),
                        body_context(case.id, case.version + 1, event_class))

    @staticmethod
    def _seal_title(key: CaseKey, case_id: UUID, version: int, title: str) -> str:
        """A title token: '<event version>:<hex of sealed title>' (for the case index)."""
        return f"{version}:{key.seal(title.encode(), title_context(case_id, version)).hex()}"

    def _open(self, keys: dict[int, CaseKey], case_id: UUID, event: Any) -> dict | None:
        body = event.body_bytes()
        key = keys.get(getattr(event, "key_version", 0))
        if not body or key is None:
            return None
        plain = key.open(body, body_context(case_id, event.originator_version, type(event)))
        return json.loads(plain)

    def _validated(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        if kind not in VALIDATORS:
            raise InvalidInput("Unknown part '%(value)s'.", field="kind", value=kind)
        return VALIDATORS[kind](data)

    def _save(self, case: Case, wrapped: dict[tuple[int, str], bytes] | None = None) -> None:
        with self.ledger.transaction() as session:
            self.ledger.save(case)
            if wrapped:
                self.keystore.put_wrapped_keys(session, str(case.id), wrapped)

    def usernames(self) -> Callable[[str], str]:
        """User id -> user name. A user's id derives from its name, which never changes, so
        each name found is loaded once per process; an unknown id is shown as it is."""
        known = self._usernames

        def name(user_id: str) -> str:
            if user_id not in known:
                try:
                    known[user_id] = self.ledger.repository.get(UUID(user_id)).username
                except (AggregateNotFoundError, ValueError):
                    return user_id
            return known[user_id]
        return name
