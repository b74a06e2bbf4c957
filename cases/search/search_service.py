"""The search service: indexes the cases a viewer's state reads, turns a query into blind
tokens, tells which item or actor of a result matched, and keeps each user's saved searches.

Everything here needs the viewer's keys: the state keyring for the search key and the case
content, the user's own key for saved searches. So it runs only in a request of a signed-in
user (DESIGN §7); the server alone can delete rows, never write or read a word.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import OperationalError
from sqlalchemy import delete, func, insert, select

from cases.casework.case_service import Cases
from cases.casework.content import serials
from cases.casework.view import CaseView
from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from cases.kernel.viewer import Viewer
from cases.search.index import SearchStore, saved_context, saved_searches
from cases.search.terms import Query, case_terms, part_terms, read_query
from crypto import CryptoError, open_sealed, seal_to
from crypto.searchkey import SearchKey

SAVED_FIELDS = ("q", "status", "tier", "owner", "category", "concerned",
                "point_of_diversion", "updated_from", "updated_to")
MAX_SAVED = 50
# Cases opened with one read of their events and keys while indexing; the time limit of a
# request's indexing is checked between such batches.
OPENED_AT_ONCE = 10
MAX_NAME = 100


@dataclass(frozen=True)
class TokenMatch:
    """A `Query` as the viewer's state's blind tokens, for every key version it holds: each
    token maps to its term's number, to `WHOLE`, or to a filter's number below `WHOLE`."""

    WHOLE = -1

    codes: dict[bytes, int]
    terms: int
    filters: int
    versions: tuple[int, ...]


@dataclass(frozen=True)
class Match:
    """A part of a result that matched the words searched: its kind and what it says."""

    kind: str
    text: str


@dataclass(frozen=True)
class SavedSearch:
    search_id: str
    name: str
    args: dict[str, str]


class CaseSearch:
    """Search commands and queries, for a given `Viewer`."""

    def __init__(self, cases: Cases, store: SearchStore) -> None:
        self.cases = cases
        self.store = store

    # The index

    def index(self, viewer: Viewer, case_ids: Iterable[str], seconds: float | None = None,
              opened: Mapping[str, CaseView] | None = None) -> int:
        """Indexes the cases for the viewer's state, stopping after ``seconds`` (at least one
        case is done); returns how many were done. A case that does not open is recorded
        with no tokens, so it does not wait in front of the others until it changes.
        ``opened``: cases the caller holds open already (just imported), not read again."""
        key = SearchKey.of(viewer.keyring, viewer.state)
        deadline = None if seconds is None else time.monotonic() + seconds
        indexed: list[tuple[str, int, list[bytes]]] = []
        waiting = [str(case_id) for case_id in case_ids]
        for start in range(0, len(waiting), OPENED_AT_ONCE):
            if indexed and deadline is not None and time.monotonic() > deadline:
                break
            chunk = waiting[start:start + OPENED_AT_ONCE]
            views = {**self.cases.views(viewer, [c for c in chunk if c not in (opened or {})]),
                     **{c: (opened or {})[c] for c in chunk if c in (opened or {})}}
            for case_id in chunk:
                if case_id not in views:
                    continue  # the index lags a narrowing: the case is not readable any more
                view = views[case_id]
                tokens = [key.token(term) for term in case_terms(view)] if view else []
                version = view.version if view else self.cases.version_of(UUID(case_id))
                indexed.append((case_id, version, tokens))
        # One transaction for the batch: a commit per case (an fsync each on SQLite) made
        # indexing ~20 cases/s on a busy disk.
        try:
            with self.cases.ledger.transaction() as session:
                self.store.replace(session, viewer.state, key.version, indexed)
        except OperationalError:
            # The store is busy (SQLite's one writer, under load): indexing is a side job of
            # the request, so the cases stay waiting for a later one rather than fail it.
            return 0
        except Conflict:
            # Another request of the state indexed some of these cases at the same moment
            # (PostgreSQL): they are indexed; the rest wait for a later request.
            return 0
        return len(indexed)

    def match(self, viewer: Viewer, query: Query) -> TokenMatch:
        """The query's tokens under each of the state's search keys (rows written before a
        rotation are still found until they are indexed again)."""
        codes: dict[bytes, int] = {}
        for version in viewer.keyring.versions:
            key = SearchKey.of(viewer.keyring, viewer.state, version)
            for number, alternatives in enumerate(query.terms):
                codes.update({key.token(term): number for term in alternatives})
            if query.whole:
                codes[key.token(query.whole)] = TokenMatch.WHOLE
            for number, term in enumerate(query.filters):
                codes[key.token(term)] = TokenMatch.WHOLE - 1 - number
        return TokenMatch(codes, len(query.terms), len(query.filters), viewer.keyring.versions)

    def forget_stale(self, viewer: Viewer, case_ids: Iterable[str]) -> None:
        """Drops the state's rows of cases it found but cannot read (shredded meanwhile)."""
        with self.cases.ledger.transaction() as session:
            self.store.forget_all(session, viewer.state, case_ids)

    def matches(self, viewer: Viewer, case_ids: Iterable[str],
                query: Query) -> dict[str, list[Match]]:
        """The items, actors, route legs and notes of each case that match the words
        searched, opened with the viewer's keys (a page of results: one read per case)."""
        found: dict[str, list[Match]] = {}
        for case_id, view in self.cases.views(viewer, case_ids).items():
            if view is None:
                continue
            parts = [("item", p) for p in view.items.values()] + \
                [("actor", p) for p in view.actors.values()] + \
                [("leg", p) for p in view.legs.values()] + [("note", p) for p in view.notes]
            found[case_id] = [Match(kind, describe(kind, part)) for kind, part in parts
                              if query.matched_by(part_terms(kind, part))]
        return found

    # Saved searches

    def saved(self, viewer: Viewer) -> list[SavedSearch]:
        """The user's saved searches, opened with their own key."""
        own = _own_key(viewer)
        s = saved_searches.c
        with self.cases.ledger.transaction() as session:
            rows = session.execute(select(s.search_id, s.sealed).where(
                s.user_id == viewer.user_id).order_by(s.saved_on, s.search_id)).all()
        searches = []
        for search_id, sealed in rows:
            try:
                data = json.loads(open_sealed(own.private, sealed,
                                              _context(viewer, search_id)))
            except (CryptoError, ValueError):
                continue  # damaged: shown to no one
            searches.append(SavedSearch(search_id, data["name"], data["args"]))
        return searches

    def save(self, viewer: Viewer, name: str, args: dict[str, Any]) -> str:
        """Saves a search (its text and filters) under a name; returns its id."""
        own = _own_key(viewer)
        name = str(name or "").strip()
        if not name:
            raise InvalidInput("This field is required.", field="name")
        if len(name) > MAX_NAME:
            raise InvalidInput("At most %(limit)s characters.", field="name", limit=MAX_NAME)
        kept = {k: str(args.get(k) or "").strip() for k in SAVED_FIELDS if args.get(k)}
        if not kept:
            raise InvalidInput("Type words to search for or choose a filter first.",
                               field="q")
        read_query(kept.get("q", ""))
        if any(len(v) > 200 for v in kept.values()):
            raise InvalidInput("At most %(limit)s characters.", field="q", limit=200)
        search_id = uuid.uuid4().hex
        sealed = seal_to(own.public_bytes, json.dumps({"name": name, "args": kept}).encode(),
                         _context(viewer, search_id))
        s = saved_searches.c
        with self.cases.ledger.transaction() as session:
            held = session.execute(select(func.count()).where(
                s.user_id == viewer.user_id)).scalar() or 0
            if held >= MAX_SAVED:
                raise InvalidInput("You can keep at most %(limit)s saved searches; delete "
                                   "one first.", field="name", limit=MAX_SAVED)
            session.execute(insert(saved_searches).values(
                search_id=search_id, user_id=viewer.user_id, saved_on=datetime.now(UTC),
                sealed=sealed))
        return search_id

    def delete(self, viewer: Viewer, search_id: str) -> None:
        s = saved_searches.c
        with self.cases.ledger.transaction() as session:
            gone = session.execute(delete(saved_searches).where(
                s.user_id == viewer.user_id, s.search_id == str(search_id)[:32])).rowcount
        if not gone:
            raise NotFound("No such saved search.")


def describe(kind: str, part: dict[str, Any]) -> str:
    """A part in a few words, as a result shows what matched."""
    if kind == "item":
        found = serials(part)
        shown = {**part, "serial": ", ".join(found[:3]) + (" …" if len(found) > 3 else "")}
        fields = ("make", "model", "serial", "lot", "headstamp", "calibre", "import_marking")
        return " · ".join(str(shown[f]) for f in fields if shown.get(f))
    if kind == "actor":
        return " · ".join(str(part[f]) for f in ("name", "country") if part.get(f))
    if kind == "leg":
        return f"{part.get('origin', '')} → {part.get('destination', '')}"
    text = str(part.get("text", ""))
    return text if len(text) <= 120 else text[:119] + "…"


def _own_key(viewer: Viewer) -> Any:
    if viewer.own_key is None:
        raise Forbidden("Sign in again to use saved searches.")
    return viewer.own_key


def _context(viewer: Viewer, search_id: str) -> dict[str, str]:
    return saved_context(viewer.user_id, search_id)
