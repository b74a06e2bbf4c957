"""The Cases application service: one method per command and query, with the access rules.

Rules: only analysts of the owner state change a case; only states holding a wrapped case key
read its content (the secretariat included: only when a state shares with it); a viewer who
cannot read a case is told it does not exist. Every refusal stores nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from cases.casework.bulk_import import PlannedCase
from cases.casework.case import BILATERAL, MEETING, NATIONAL, PORTAL, Case
from cases.casework.content import (
    MAX_FIRST_PARTS,
    validate_actor,
    validate_item,
    validate_leg,
    validate_note,
    validate_summary,
)
from cases.casework.opened_views import OpenedViews
from cases.casework.view import CaseView, HistoryEntry, fold_view, history_entry
from cases.identity.directory import SECRETARIAT_CODE, SIGNATORY, STATE_PARTY
from cases.identity.directory_service import Directory
from cases.kernel.errors import Conflict, DivexError, Forbidden, InvalidInput, NotFound
from cases.kernel.keystore import KeyStore
from cases.kernel.ledger import Actor, Ledger
from cases.kernel.sealing import Grant, Sealing, open_body, open_title, seal_body, seal_title
from cases.kernel.viewer import ANALYST, AUDITOR, STATE_ADMIN, Viewer
from cases.search.index import SearchStore
from cases.tracing.trace_request import TraceRequest
from crypto import CaseKey, CryptoError

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


VALIDATORS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "item": validate_item, "actor": validate_actor, "leg": validate_leg, "note": validate_note,
}


class SealedTitle(Protocol):
    """A case's title as the case index holds it (sealed; see `Cases.titles`)."""

    case_id: str
    title_key_version: int
    title_token: str


log = logging.getLogger(__name__)


class Cases:
    """Commands and queries on cases, for a given `Viewer`."""

    def __init__(self, ledger: Ledger, keystore: KeyStore, directory: Directory,
                 clock: Clock = utc_now) -> None:
        self.ledger = ledger
        self.keystore = keystore
        self.directory = directory
        self.sealing = Sealing(ledger, keystore, directory)
        self.opened = OpenedViews()  # see `views`
        self.clock = clock  # retention periods are measured against it
        self._usernames: dict[str, str] = {}  # user id -> name, see `usernames`
        # Indexes a case for the viewer's state after each change they make (the search
        # service, set by the wiring): the author's own state finds its changes at once.
        self.indexer: Callable[..., Any] | None = None  # CaseSearch.index
        # Brings the owner's match rows in line with its items (private hits, set by the
        # wiring): Hits.check_case.
        self.matcher: Callable[..., Any] | None = None

    # Commands

    def open_case(self, viewer: Viewer, summary: dict[str, Any],
                  items: Sequence[dict[str, Any]] = (), actors: Sequence[dict[str, Any]] = (),
                  legs: Sequence[dict[str, Any]] = ()) -> UUID:
        """Logs a new case, readable by the viewer's state only (tier `national`), with its
        first items, actors and route legs if given: all of it, or nothing. A bad part
        names its field as ``items.<n>.<field>`` (``actors.``, ``legs.``)."""
        if not viewer.has(ANALYST):
            raise Forbidden("Only analysts log cases.")
        content = validate_summary(summary)
        parts = []
        for kind, given in (("item", items), ("actor", actors), ("leg", legs)):
            if len(given) > MAX_FIRST_PARTS:
                raise InvalidInput("At most %(limit)s of each kind are logged with a new case; "
                                   "add more on the case page.", field=f"{kind}s",
                                   limit=MAX_FIRST_PARTS)
            for n, data in enumerate(given):
                try:
                    parts.append((kind, self._validated(kind, data)))
                except DivexError as error:
                    error.field = f"{kind}s.{n}.{error.field}" if error.field else f"{kind}s.{n}"
                    raise
        case, granted = self._new_case(viewer, content, parts)
        self._save(case, granted, by=viewer, items_changed=bool(items))
        return case.id

    def import_cases(self, viewer: Viewer, planned: Sequence[PlannedCase],
                     progress: Callable[[int], None] = lambda done: None) -> list[UUID]:
        """Logs the cases of a checked import (`bulk_import`) as one batch: every case and
        its items are sealed and signed first (``progress`` told after each case), then
        stored in one transaction, all or nothing."""
        if not viewer.has(ANALYST):
            raise Forbidden("Only analysts log cases.")
        own_keys = {viewer.state: self.directory.state(viewer.state).public_keys}
        made, opened = [], {}
        for done, planned_case in enumerate(planned, start=1):
            items = planned_case.items
            case, granted = self._new_case(viewer, planned_case.summary,
                                           [("item", item) for item in items], own_keys)
            made.append((case, granted))
            opened[str(case.id)] = CaseView(
                str(case.id), viewer.state, case.status, case.tier, [viewer.state],
                case.version, 1, case.created_on, case.modified_on, planned_case.summary,
                {str(n): item for n, item in enumerate(items)})
            progress(done)
        with self.ledger.transaction() as session:
            self.ledger.save(*(case for case, _ in made))
            self.keystore.put_new_cases_keys(
                session, [(str(case.id), granted.wrapped) for case, granted in made])
        if self.indexer is not None:  # from what is open here: nothing is read again
            self.indexer(viewer, list(opened), opened=opened)
        for case_id, view in opened.items():
            if any(item.get("match_check") == "yes" for item in view.items.values()):
                self._match(viewer, case_id, items=view.items)
        return [case.id for case, _ in made]

    def _new_case(self, viewer: Viewer, content: dict[str, Any],
                  parts: Sequence[tuple[str, dict[str, Any]]],
                  known_keys: dict[str, Any] | None = None) -> tuple[Case, Grant]:
        """A new national case with its first parts, sealed and signed, not yet stored."""
        case_id = uuid.uuid4()
        key = CaseKey.generate(1)
        granted = self.sealing.grant(case_id, [key], [viewer.state], known_keys)
        case = Case.open(viewer.actor, case_id, granted.grants,
                         title=seal_title(key, case_id, 1, content["title"]),
                         body=seal_body(key, case_id, 1, Case.Opened, content))
        for kind, part in parts:
            case.add_part(viewer.actor, kind, uuid.uuid4().hex[:12],
                          self._seal(key, case, Case.PartAdded, part))
        return case, granted

    def revise_summary(self, viewer: Viewer, case_id: UUID, expected_version: int,
                       summary: dict[str, Any]) -> None:
        case, key = self._for_change(viewer, case_id, expected_version, "summary")
        content = validate_summary(summary)
        version = case.version + 1
        case.revise_content(viewer.actor, seal_title(key, case_id, version, content["title"]),
                            self._seal(key, case, Case.ContentRevised, content))
        self._save(case, by=viewer)

    def add_part(self, viewer: Viewer, case_id: UUID, expected_version: int, kind: str,
                 data: dict[str, Any]) -> str:
        """Adds an item, actor, route leg or evidence note; returns its part id."""
        part_id = uuid.uuid4().hex[:12]
        case, key = self._for_change(viewer, case_id, expected_version, part_id)
        content = self._validated(kind, data)
        case.add_part(viewer.actor, kind, part_id, self._seal(key, case, Case.PartAdded, content))
        self._save(case, by=viewer, items_changed=kind == "item")
        return part_id

    def revise_part(self, viewer: Viewer, case_id: UUID, expected_version: int, kind: str,
                    part_id: str, data: dict[str, Any]) -> None:
        case, key = self._for_change(viewer, case_id, expected_version, part_id)
        content = self._validated(kind, data)
        case.revise_part(viewer.actor, kind, part_id,
                         self._seal(key, case, Case.PartRevised, content))
        self._save(case, by=viewer, items_changed=kind == "item")

    def remove_part(self, viewer: Viewer, case_id: UUID, expected_version: int, kind: str,
                    part_id: str) -> None:
        case, _ = self._for_change(viewer, case_id, expected_version, part_id)
        case.remove_part(viewer.actor, kind, part_id)
        self._save(case, by=viewer, items_changed=kind == "item")

    def restore_part(self, viewer: Viewer, case_id: UUID, expected_version: int, kind: str,
                     part_id: str, removed_at: int) -> None:
        """Undoes the removal recorded at version ``removed_at``: the part comes back under
        its id with what it held then, as a new event (the removal stays in the history)."""
        case, key = self._for_change(viewer, case_id, expected_version, part_id)
        if not 1 < removed_at <= case.version:
            raise NotFound("No removal of this part at version %(version)s.", field="part_id",
                           version=removed_at)
        held = self.view(viewer, case_id, removed_at - 1)
        content = {"item": held.items, "actor": held.actors, "leg": held.legs}[kind]
        if part_id not in content or part_id in self._get(case_id, removed_at).parts[kind]:
            raise NotFound("No removal of this part at version %(version)s.", field="part_id",
                           version=removed_at)
        case.add_part(viewer.actor, kind, part_id,
                      self._seal(key, case, Case.PartAdded, content[part_id]))
        self._save(case)
        if kind == "item":
            self._match(viewer, str(case_id))

    def change_status(self, viewer: Viewer, case_id: UUID, expected_version: int,
                      status: str, reason: str = "") -> None:
        case, key = self._for_change(viewer, case_id, expected_version, "status")
        reason = (reason or "").strip()
        if len(reason) > 2000:  # refused, not cut: what is stored is what was typed
            raise InvalidInput("At most %(limit)s characters.", field="reason", limit=2_000)
        case.change_status(viewer.actor, status,
                           self._seal(key, case, Case.StatusChanged, {"reason": reason}))
        self._save(case, by=viewer)

    def share(self, viewer: Viewer, case_id: UUID, expected_version: int, tier: str,
              states: list[str] | None = None, meeting: str = "") -> list[str]:
        """Widens who can read: named states (bilateral), a meeting's participants (meeting,
        see `cases.meetings.meeting_service`) or all States Parties (portal).

        Every key version is wrapped for each new reader, so they read the whole history.
        Returns the states added.
        """
        case, _ = self._for_change(viewer, case_id, expected_version)
        if tier == MEETING and not meeting:
            raise InvalidInput("A case is shared to a meeting by tabling it there.",
                               field="tier")
        added = sorted(set(self.audience(viewer, tier, states)) - set(case.recipients))
        granted = self.sealing.grant(case_id, self._keys_of(viewer, case).values(), added)
        case.share(viewer.actor, tier, added, granted.grants, meeting)
        self._save(case, granted, by=viewer)
        return added

    def open_portal_to_new_parties(self, viewer: Viewer,
                                   case_ids: Iterable[str]) -> dict[str, list[str]]:
        """Gives the viewer's state's portal cases to the States Parties that joined (or
        ratified) since they were shared: the portal is every State Party, and only the owner
        holds the keys to wrap for them, so an analyst's request does it, as a portal share
        of theirs. Returns case id -> the states added."""
        if not viewer.has(ANALYST):
            return {}
        parties = set(self.audience(viewer, PORTAL, None))
        opened = {}
        for case_id in case_ids:
            case = self._get(UUID(str(case_id)))
            added = sorted(parties - set(case.recipients))
            if case.owner != viewer.state or case.tier != PORTAL or case.shredded or not added:
                continue
            granted = self.sealing.grant(case.id, self._keys_of(viewer, case).values(), added)
            case.share(viewer.actor, PORTAL, added, granted.grants)
            try:
                self._save(case, granted)
            except Conflict:
                continue  # changed meanwhile: the next request sees it again
            opened[str(case.id)] = added
        return opened

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
        granted = self.sealing.grant(case_id, [key], remaining)
        case.unshare(actor, gone, case.tier if others else NATIONAL, granted.grants)
        self._save(case, granted, forget=gone)

    def unshare(self, viewer: Viewer, case_id: UUID, expected_version: int,
                states: list[str]) -> None:
        """Removes readers and rotates the case key: later events are sealed from them."""
        case, _ = self._for_change(viewer, case_id, expected_version)
        remaining = sorted(set(case.recipients) - set(states) | {case.owner})
        others = [s for s in remaining if s != case.owner]
        tier = NATIONAL if not others else (BILATERAL if case.tier == PORTAL else case.tier)
        key = CaseKey.generate(case.key_version + 1)
        granted = self.sealing.grant(case_id, [key], remaining)
        case.unshare(viewer.actor, list(states), tier, granted.grants)
        self._save(case, granted, by=viewer, forget=list(states))

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
            SearchStore.forget(session, str(case_id))
            trace_rows = sum(self.keystore.drop_keys(session, t) for t in traces)
        self.keystore.scrub()
        for owner in (str(case_id), *traces):
            self.sealing.forget(owner)
        self.opened.forget(str(case_id))
        self._match(viewer, str(case_id))  # its match rows go
        return case_rows, trace_rows

    def trace_requests_of(self, case_id: UUID) -> list[TraceRequest]:
        """The trace requests sent about a case."""
        with self.ledger.transaction() as session:
            ids = self.keystore.trace_requests_of(session, str(case_id))
        return [self.ledger.repository.get(UUID(t)) for t in ids]

    def version_of(self, case_id: UUID) -> int:
        """The case's version (a clear fact: no access check needed)."""
        return int(self._get(case_id).version)

    def is_shredded(self, case_id: UUID) -> bool:
        """Whether the case's keys were deleted (a clear fact: no access check needed)."""
        return self._get(case_id).shredded

    def not_yet_readers(self, viewer: Viewer, case_id: UUID, states: list[str]) -> list[str]:
        """Of ``states``, those that do not read the viewer's own case yet (for its owner to
        see who waits on them); nothing for a case the viewer's state does not own."""
        case = self._get(case_id)
        if case.owner != viewer.state:
            return []
        return [s for s in states if s != case.owner and s not in case.recipients]

    def _administered(self, viewer: Viewer, case_id: UUID) -> Case:
        case = self._readable(viewer, case_id)
        self._require_administer(viewer, case.owner)
        return case

    # Queries

    @staticmethod
    def may_change(viewer: Viewer, owner: str) -> bool:
        """The rule on who changes a case: analysts of the state that owns it."""
        return viewer.state == owner and viewer.has(ANALYST)

    @staticmethod
    def may_administer(viewer: Viewer, owner: str) -> bool:
        """The rule on who decides retention and shredding: state admins of the owner."""
        return viewer.state == owner and viewer.has(STATE_ADMIN)

    def view_to_change(self, viewer: Viewer, case_id: UUID) -> CaseView:
        """The case for a change form; refused unless the viewer may change it."""
        case = self.view(viewer, case_id)
        self._require_change(viewer, case.owner)
        return case

    def view_to_administer(self, viewer: Viewer, case_id: UUID) -> CaseView:
        """The case for the retention and shredding forms; refused unless administered."""
        case = self.view(viewer, case_id)
        self._require_administer(viewer, case.owner)
        return case

    def view_to_trace(self, viewer: Viewer, case_id: UUID) -> CaseView:
        """The case whose items a trace request asks about; refused unless the viewer may
        send one (analysts of the owner state)."""
        case = self.view(viewer, case_id)
        if not self.may_change(viewer, case.owner):
            raise Forbidden("Only analysts of the state that owns the case send trace requests.")
        return case

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
        case, events = self._readable_with_events(viewer, case_id, version)
        keys = self._keys_of(viewer, case)
        return fold_view(case, events, lambda event: open_body(keys, case.id, event),
                         self.usernames())

    def views(self, viewer: Viewer, case_ids: Iterable[str]) -> dict[str, CaseView | None]:
        """`view` of several cases (a page of search results, a batch to index), their events
        and the keys the viewer's state holds read in one query each, not two per case:
        case id -> its view, or None where the state's keys do not open it; a case the
        state does not read is left out. A case unchanged since the state last opened it
        in this process is not opened again (`OpenedViews`); the views are shared, for
        reading only."""
        ids = [str(case_id) for case_id in case_ids]
        kept = self.opened.get(viewer.state, self.ledger.versions_of(ids))
        views = self._open_views(viewer, [i for i in ids if i not in kept])
        if not self.ledger.in_transaction():  # what it read may yet be rolled back
            self.opened.keep(viewer.state, views)
        return {i: kept[i] if i in kept else views[i] for i in ids if i in kept or i in views}

    def _open_views(self, viewer: Viewer, case_ids: list[str]) -> dict[str, CaseView | None]:
        if not case_ids:
            return {}
        readable = {str(case_id): found for case_id, found in self.ledger.get_many_with_events(
            Case, case_ids).items() if found[0].readable_by(viewer.state)}
        wrapped = self.sealing.wrapped_of(viewer, readable)
        names = self.usernames()
        views: dict[str, CaseView | None] = {}
        for case_id, (case, events) in readable.items():
            try:
                keys = {version: self.sealing.unwrap(viewer, case_id, blob)
                        for version, blob in wrapped.get(case_id, {}).items()}
            except CryptoError:
                views[case_id] = None
                continue
            views[case_id] = fold_view(case, events, partial(open_body, keys, case.id), names)
        return views

    def keys_to_read(self, viewer: Viewer, case_id: UUID,
                     version: int | None = None) -> tuple[Case, dict[int, CaseKey]]:
        """The case (as it was at ``version``) and every key of it the viewer's state holds;
        `NotFound` unless the state reads it (for its contributions, `contribution_service`)."""
        case = self._readable(viewer, case_id, version)
        return case, self._keys_of(viewer, case)

    def view_with_history(self, viewer: Viewer,
                          case_id: UUID) -> tuple[CaseView, list[HistoryEntry]]:
        """`view` and `history` together, as the case page shows them, from one read of the
        case, its keys and its events (each read is a round trip to the database)."""
        case, events = self._readable_with_events(viewer, case_id)
        keys = self._keys_of(viewer, case)
        names = self.usernames()
        opened = {e.originator_version: open_body(keys, case.id, e) for e in events}  # once
        return (fold_view(case, events, lambda event: opened[event.originator_version], names),
                [history_entry(e, opened[e.originator_version], names) for e in events])

    def history(self, viewer: Viewer, case_id: UUID,
                version: int | None = None) -> list[HistoryEntry]:
        """Every event (up to ``version``): what changed for readers; the clear header only
        for auditors of other states."""
        case, events = self.ledger.get_with_events(Case, case_id, NotFound("No such case."),
                                                   version)
        if case.readable_by(viewer.state):
            keys = self._keys_of(viewer, case)
        elif viewer.has(AUDITOR):
            keys = {}
        else:
            raise NotFound("No such case.")
        names, withheld = self.usernames(), not case.readable_by(viewer.state)
        return [history_entry(e, open_body(keys, case.id, e) if keys else None, names,
                              withheld=withheld)
                for e in events]

    def titles(self, viewer: Viewer, rows: Iterable[SealedTitle]) -> dict[str, str | None]:
        """Opens the sealed titles of a page of the case index, by case id (None where the
        viewer cannot); the page's wrapped keys are read in one query."""
        rows = list(rows)
        wrapped = self.sealing.wrapped_of(viewer, (r.case_id for r in rows))
        return {r.case_id: self._open_title(viewer, r, wrapped.get(r.case_id, {}))
                for r in rows}

    def _open_title(self, viewer: Viewer, row: SealedTitle,
                    wrapped: dict[int, bytes]) -> str | None:
        if row.title_key_version not in wrapped or not row.title_token:
            return None
        try:
            key = self.sealing.unwrap(viewer, row.case_id, wrapped[row.title_key_version])
            return open_title(key, row.case_id, row.title_token)
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

    def _readable_with_events(self, viewer: Viewer, case_id: UUID,
                              version: int | None = None) -> tuple[Case, list[Any]]:
        case, events = self.ledger.get_with_events(Case, case_id, NotFound("No such case."),
                                                   version)
        if not case.readable_by(viewer.state):
            raise NotFound("No such case.")
        return case, events

    def _for_change(self, viewer: Viewer, case_id: UUID, expected_version: int,
                    part: str | None = None) -> tuple[Case, CaseKey]:
        """The case and its current key for a change prepared on ``expected_version``;
        refused only if a later change touched the same ``part`` (any, if None)."""
        case = self._readable(viewer, case_id)
        self._require_change(viewer, case.owner)
        try:
            stale = case.changed_since(int(expected_version), part)
        except (TypeError, ValueError):
            raise InvalidInput("The case version is missing or not a number.",
                               field="expected_version") from None
        if stale and part is None:
            raise Conflict("This case was changed by someone else since you opened it; "
                           "reload it and make your change again.", field="expected_version")
        if stale:
            raise Conflict("This part of the case was changed by someone else since you "
                           "opened it: look at what changed, then save again.",
                           field="expected_version")
        if case.shredded:
            raise Conflict("This case was crypto-shredded; it cannot change.")
        keys = self._keys_of(viewer, case)
        return case, keys[case.key_version]

    def _require_change(self, viewer: Viewer, owner: str) -> None:
        if not self.may_change(viewer, owner):
            raise Forbidden("Only analysts of the owner state change this case.")

    def _require_administer(self, viewer: Viewer, owner: str) -> None:
        if not self.may_administer(viewer, owner):
            raise Forbidden("Only state admins of the owner state decide retention and "
                            "shredding.")

    def _keys_of(self, viewer: Viewer, case: Case) -> dict[int, CaseKey]:
        return self.sealing.keys(viewer, case.id,
                                 Forbidden("Your state's keys do not open this case."))

    @staticmethod
    def _seal(key: CaseKey, case: Case, event_class: type, content: dict) -> bytes:
        """The body of the case's next event."""
        return seal_body(key, case.id, case.version + 1, event_class, content)

    def _validated(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        if kind not in VALIDATORS:
            raise InvalidInput("Unknown part '%(value)s'.", field="kind", value=kind)
        return VALIDATORS[kind](data)

    def _save(self, case: Case, granted: Grant | None = None, *, by: Viewer | None = None,
              forget: list[str] | None = None, items_changed: bool = False) -> None:
        """Saves the case with the keys it grants; ``forget``: states whose search rows of
        the case go with it (narrowed away). The change is then indexed for ``by``'s state,
        and a change to its items checked for private hits."""
        with self.ledger.transaction() as session:
            self.ledger.save(case)
            if granted and granted.wrapped:
                self.keystore.put_wrapped_keys(session, str(case.id), granted.wrapped)
            if forget:
                SearchStore.forget(session, str(case.id), forget)
        if by is not None and self.indexer is not None:
            self.indexer(by, [str(case.id)])
        if by is not None and items_changed:
            self._match(by, str(case.id))

    def _match(self, viewer: Viewer, case_id: str, **given: Any) -> None:
        """The private hit check of a change just saved: a side job of the request, so a
        busy oracle or store leaves the new identifiers waiting rather than fail it."""
        if self.matcher is not None:
            try:
                self.matcher(viewer, case_id, **given)
            except DivexError as error:  # the change stands; its check waits for a later save
                log.warning("private hit check of case %s left for later: %s", case_id,
                            error.template % error.params)

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
