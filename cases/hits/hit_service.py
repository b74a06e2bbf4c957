"""Private hits (issue 20): a state's items enter the match index through the oracle, and equal
tokens of two states become a hit both are told of.

Runs in a request of a signed-in user of the owner state, who holds its keyring: the
identifiers are read from the case there, blinded there, and only blinded elements reach the
oracle (`cases.hits.oracle`). What is stored is the OPRF token, keyed handles and a sealed
reference (`cases.hits.match_index`); what a hit tells is the two states' names.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select, tuple_

from cases.casework.case_service import Cases
from cases.kernel.errors import Busy, DivexError, Forbidden, NotFound
from cases.kernel.ledger import Ledger
from cases.kernel.viewer import ANALYST, REVIEWER, Viewer
from crypto import CryptoError, open_sealed, oprf, seal_to
from crypto.searchkey import SearchKey

from .hit import Hit
from .identifiers import identifiers
from .match_index import TOKEN_BYTES, hit_parties, match_tokens
from .oracle import MatchOracle

MISSING = NotFound("No such hit.")


@dataclass(frozen=True)
class CheckResult:
    """What a check of a case did: identifiers entered, left waiting (the day's limit), hits."""

    entered: int = 0
    waiting: int = 0
    hits: int = 0


@dataclass(frozen=True)
class HitView:
    """A hit as one of its two states sees it: its own case and item, the other state's name
    and answer, nothing of the other state's case."""

    id: str
    other: str
    found_on: datetime
    case_id: str
    item_id: str
    case_title: str | None  # None: the case is gone (shredded) or the item removed
    item: dict[str, Any] | None
    mine: str  # the state's answer, "" if none yet
    theirs: str


@dataclass(frozen=True)
class _Plan:
    case_id: str
    case_handle: bytes
    key_version: int
    wanted: dict[tuple[bytes, bytes], tuple[str, str]]  # (item, source) -> (item id, identifier)
    stale: list[tuple[bytes, bytes]]  # rows to drop
    new: list[tuple[bytes, bytes]]  # identifiers to enter


class Hits:
    def __init__(self, ledger: Ledger, cases: Cases, oracle: MatchOracle) -> None:
        self.ledger, self.cases, self.oracle = ledger, cases, oracle

    # The match index

    def check_case(self, viewer: Viewer, case_id: UUID | str,
                   items: dict[str, dict[str, Any]] | None = None) -> CheckResult:
        """Brings the state's match rows of one of its cases in line with its items: new
        identifiers entered (through the oracle, within the day's limit), those of removed or
        changed items dropped, a hit recorded for each item of another state found equal.
        ``items``: the case's items when the caller holds them open (an import)."""
        plan = self._plan(viewer, str(case_id), items)
        entered = self._entered(viewer, plan.case_id, [(k, plan.wanted[k]) for k in plan.new])
        hits: list[Hit] = []
        t = match_tokens.c
        with self.ledger.transaction() as session:
            for start in range(0, len(plan.stale), 200):
                session.execute(delete(match_tokens).where(
                    t.state == viewer.state,
                    tuple_(t.item_handle, t.source).in_(plan.stale[start:start + 200])))
            if entered:
                session.execute(insert(match_tokens), [
                    {"state": viewer.state, "item_handle": item_handle, "source": source,
                     "case_handle": plan.case_handle, "key_version": plan.key_version,
                     "token": token, "ref": ref}
                    for (item_handle, source), token, ref in entered])
                hits = self._record_hits(session, viewer, entered)
        return CheckResult(len(entered), len(plan.new) - len(entered), len(hits))

    def status(self, viewer: Viewer, case_id: UUID | str) -> tuple[int, int]:
        """How many identifiers of the state's case are in the match index, and how many
        wait to enter it (the day's limit was reached)."""
        plan = self._plan(viewer, str(case_id), None)
        return len(plan.wanted) - len(plan.new), len(plan.new)

    def _plan(self, viewer: Viewer, case_id: str,
              items: dict[str, dict[str, Any]] | None) -> _Plan:
        """The case's identifiers as the state wants them entered, against its rows."""
        key = SearchKey.of(viewer.keyring, viewer.state)
        case_handles = [SearchKey.of(viewer.keyring, viewer.state, version)
                        .token(f"match-case|{case_id}") for version in viewer.keyring.versions]
        wanted: dict[tuple[bytes, bytes], tuple[str, str]] = {}
        own = items if items is not None else self._own_items(viewer, case_id)
        for item_id, item in own.items():
            item_handle = key.token(f"match-item|{case_id}|{item_id}")
            for identifier in identifiers(item):
                wanted[(item_handle, key.token(f"match-source|{identifier}"))] = \
                    (item_id, identifier)
        t = match_tokens.c
        with self.ledger.transaction() as session:
            held = {(r.item_handle, r.source): r.key_version for r in session.execute(
                select(t.item_handle, t.source, t.key_version).where(
                    t.state == viewer.state, t.case_handle.in_(case_handles)))}
        stale = [k for k, version in held.items() if k not in wanted or version != key.version]
        new = [k for k in wanted if k not in held or held[k] != key.version]
        return _Plan(case_id, key.token(f"match-case|{case_id}"), key.version, wanted, stale,
                     new)

    def _own_items(self, viewer: Viewer, case_id: str) -> dict[str, dict[str, Any]]:
        """The case's items if the viewer's state owns it and can read it; else none (a
        shredded case: its rows go)."""
        try:
            view = self.cases.view(viewer, UUID(case_id))
        except (NotFound, Forbidden):
            return {}
        return view.items if view.owner == viewer.state else {}

    def _entered(self, viewer: Viewer, case_id: str,
                 new: list[tuple[tuple[bytes, bytes], tuple[str, str]]]
                 ) -> list[tuple[tuple[bytes, bytes], bytes, bytes]]:
        """The tokens of new identifiers, as many as the day's limit allows, through the
        oracle: blinded here, evaluated there, finalised here."""
        left = min(len(new), self.oracle.left_today(viewer.state))
        new = new[:max(left, 0)]
        if not new:
            return []
        blinded = [oprf.blind(identifier.encode()) for _, (_, identifier) in new]
        try:
            evaluated = self.oracle.evaluate(viewer.actor, [element for _, element in blinded])
        except Busy:  # another request of the state used the rest meanwhile
            return []
        pair = viewer.keyring.current
        public = pair.public().encryption
        found = []
        for (handles, (item_id, identifier)), (blind, _), element in zip(
                new, blinded, evaluated, strict=True):
            token = oprf.finalize(identifier.encode(), blind, element)[:TOKEN_BYTES]
            ref = seal_to(public, json.dumps({"case": case_id, "item": item_id}).encode(),
                          _ref_context(viewer.state, pair.version))
            found.append((handles, token, _versioned(pair.version, ref)))
        return found

    def _record_hits(self, session: Any, viewer: Viewer,
                     entered: list[tuple[tuple[bytes, bytes], bytes, bytes]]) -> list[Hit]:
        t = match_tokens.c
        mine = {token: (item_handle, ref) for (item_handle, _), token, ref in entered}
        others = session.execute(select(t.state, t.item_handle, t.token, t.ref).where(
            t.token.in_(list(mine)), t.state != viewer.state)).all()
        hits: dict[UUID, Hit] = {}
        for other in others:
            item_handle, ref = mine[other.token]
            hit_id = Hit.id_for(item_handle, other.item_handle)
            if hit_id in hits or session.execute(select(hit_parties.c.hit_id).where(
                    hit_parties.c.hit_id == str(hit_id))).first():
                continue
            hits[hit_id] = Hit.found(viewer.actor, hit_id, {
                viewer.state: base64.b64encode(ref).decode(),
                other.state: base64.b64encode(other.ref).decode()})
            session.execute(insert(hit_parties), [
                {"hit_id": str(hit_id), "state": s} for s in (viewer.state, other.state)])
        if hits:
            self.ledger.save(*hits.values())
        return list(hits.values())

    # Reading and answering hits

    def for_state(self, viewer: Viewer) -> list[HitView]:
        """The viewer's state's hits, newest first."""
        self._require_reader(viewer)
        with self.ledger.transaction() as session:
            ids = session.execute(select(hit_parties.c.hit_id).where(
                hit_parties.c.state == viewer.state)).scalars().all()
        views = [self._view(viewer, self.ledger.get_as(Hit, hit_id, MISSING)) for hit_id in ids]
        return sorted(views, key=lambda v: v.found_on, reverse=True)

    def view(self, viewer: Viewer, hit_id: UUID | str) -> HitView:
        self._require_reader(viewer)
        hit = self.ledger.get_as(Hit, hit_id, MISSING)
        if viewer.state not in hit.parties:
            raise MISSING  # a third state learns nothing, not even that it exists
        return self._view(viewer, hit)

    def answer(self, viewer: Viewer, hit_id: UUID | str, answer: str) -> HitView:
        """Records the state's answer: ``case_shared`` (its case, bilaterally, with the other
        state, done here), ``trace_sent`` (a trace request was sent) or ``dismissed``."""
        if not viewer.has(ANALYST):
            raise Forbidden("Only analysts act on a hit.")
        view = self.view(viewer, hit_id)
        hit = self.ledger.get_as(Hit, hit_id, MISSING)
        hit.answer(viewer.actor, answer)
        if answer == "case_shared":
            if view.case_title is None:
                raise NotFound("Your case of this hit is no longer there to share.")
            case_id = UUID(view.case_id)
            self.cases.share(viewer, case_id, self.cases.version_of(case_id), "bilateral",
                             [view.other])
        self.ledger.save_all(hit)
        return self.view(viewer, hit_id)

    def _view(self, viewer: Viewer, hit: Hit) -> HitView:
        ref = _open_ref(viewer, hit.refs.get(viewer.state, ""))
        title, item = None, None
        try:
            case = self.cases.view(viewer, UUID(ref["case"]))
            item = case.items.get(ref["item"])
            title = case.summary.get("title") if item is not None else None
        except (DivexError, KeyError, ValueError):
            pass
        other = hit.other(viewer.state)
        return HitView(str(hit.id), other, hit.created_on, ref.get("case", ""),
                       ref.get("item", ""), title, item, hit.answers.get(viewer.state, ""),
                       hit.answers.get(other, ""))

    @staticmethod
    def _require_reader(viewer: Viewer) -> None:
        if not (viewer.has(ANALYST) or viewer.has(REVIEWER)):
            raise Forbidden("Only analysts and reviewers see private hits.")


def _ref_context(state: str, version: int) -> dict[str, Any]:
    return {"purpose": "divex match reference", "state": state, "key_version": version}


def _versioned(version: int, sealed: bytes) -> bytes:
    return version.to_bytes(4, "big") + sealed


def _open_ref(viewer: Viewer, encoded: str) -> dict[str, str]:
    """The state's own case and item of a hit, opened with its keyring ({} if it cannot)."""
    try:
        raw = base64.b64decode(encoded)
        version = int.from_bytes(raw[:4], "big")
        pair = viewer.keyring.get(version)
        return json.loads(open_sealed(pair.encryption, raw[4:],
                                      _ref_context(viewer.state, version)))
    except (CryptoError, ValueError, KeyError):
        return {}
