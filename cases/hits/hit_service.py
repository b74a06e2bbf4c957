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
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import delete, insert, select, tuple_

from cases.casework.case_service import Cases
from cases.kernel.errors import Busy, DivexError, Forbidden, NotFound
from cases.kernel.ledger import Ledger
from cases.kernel.viewer import ANALYST, REVIEWER, Viewer
from crypto import CryptoError, open_sealed, oprf, seal_to
from crypto.searchkey import SearchKey

from .hit import Hit
from .identifiers import identifiers
from .match_index import TOKEN_BYTES, hit_parties, match_tokens, match_waiting
from .oracle import Oracle, OracleUsage

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
    marking: str  # the state's own marking that matched, as it wrote it
    mine: str  # the state's answer, "" if none yet
    theirs: str


@dataclass(frozen=True)
class _Plan:
    case_id: str
    case_handle: bytes
    key_version: int
    # (item handle, source) -> (item id, identifier, the marking as written)
    wanted: dict[tuple[bytes, bytes], tuple[str, str, str]]
    stale: list[tuple[bytes, bytes]]  # rows to drop
    new: list[tuple[bytes, bytes]]  # identifiers to enter


class Hits:
    def __init__(self, ledger: Ledger, cases: Cases, oracle: Oracle) -> None:
        self.ledger, self.cases, self.oracle = ledger, cases, oracle

    # The match index

    def check_case(self, viewer: Viewer, case_id: UUID | str,
                   items: dict[str, dict[str, Any]] | None = None) -> CheckResult:
        """Brings the state's match rows of one of its cases in line with its items: new
        identifiers entered (through the oracle, within the day's limit), those of removed or
        changed items dropped, a hit recorded for each item of another state found equal.
        ``items``: the case's items when the caller holds them open (an import)."""
        plan = self._plan(viewer, str(case_id), items)
        entered, total, oracle_key = self._entered(viewer, plan.case_id,
                                                   [(k, plan.wanted[k]) for k in plan.new])
        hits: list[Hit] = []
        t = match_tokens.c
        with self.ledger.transaction() as session:
            if entered:  # the log's record of the oracle's count: the count, never an input
                self.ledger.save(self._usage(viewer, len(entered), total))
            for start in range(0, len(plan.stale), 200):
                session.execute(delete(match_tokens).where(
                    t.state == viewer.state,
                    tuple_(t.item_handle, t.source).in_(plan.stale[start:start + 200])))
            if entered:
                session.execute(insert(match_tokens), [
                    {"state": viewer.state, "item_handle": item_handle, "source": source,
                     "case_handle": plan.case_handle, "key_version": plan.key_version,
                     "oracle_key": oracle_key, "token": token, "ref": ref}
                    for (item_handle, source), token, ref in entered])
                hits = self._record_hits(session, viewer, entered)
            waiting = len(plan.new) - len(entered)
            self._mark_waiting(session, viewer, plan, waiting)
        return CheckResult(len(entered), waiting, len(hits))

    def _mark_waiting(self, session: Any, viewer: Viewer, plan: _Plan, waiting: int) -> None:
        """Remembers (or forgets) that the case has identifiers waiting for the oracle."""
        w = match_waiting.c
        session.execute(delete(match_waiting).where(w.state == viewer.state,
                                                    w.case_handle == plan.case_handle))
        if waiting:
            pair = viewer.keyring.current
            ref = seal_to(pair.public().encryption, json.dumps({"case": plan.case_id}).encode(),
                          _ref_context(viewer.state, pair.version))
            session.execute(insert(match_waiting).values(
                state=viewer.state, case_handle=plan.case_handle,
                ref=_versioned(pair.version, ref)))

    def refresh(self, viewer: Viewer, cases: int = 20) -> int:
        """Enters again, in a request of the state's user, the identifiers of up to ``cases``
        of its cases whose rows are under an older oracle key (`divex oracle rotate`) or
        state key, or that were left waiting for the day's limit; returns how many cases
        were done. Only the state opens the references
        that say which cases they are."""
        t, current = match_tokens.c, self.oracle.key_id()
        newest = viewer.keyring.current.version
        with self.ledger.transaction() as session:
            refs = session.execute(select(t.ref).where(
                t.state == viewer.state, (t.oracle_key != current) | (t.key_version != newest)
            ).limit(cases * 20)).scalars().all()
            if self.oracle.left_today(viewer.state) > 0:  # and cases left waiting
                refs += session.execute(select(match_waiting.c.ref).where(
                    match_waiting.c.state == viewer.state).limit(cases)).scalars().all()
        case_ids = list(dict.fromkeys(_open_ref(viewer, base64.b64encode(ref).decode()).get(
            "case", "") for ref in refs))[:cases]
        for case_id in case_ids:
            if case_id:
                self.check_case(viewer, case_id)
        return len(case_ids)

    def status(self, viewer: Viewer, case_id: UUID | str,
               items: dict[str, dict[str, Any]] | None = None) -> tuple[int, int]:
        """How many identifiers of the state's case are in the match index, and how many
        wait to enter it (the day's limit was reached). ``items``: the case's, when the
        caller holds it open."""
        plan = self._plan(viewer, str(case_id), items)
        return len(plan.wanted) - len(plan.new), len(plan.new)

    def _plan(self, viewer: Viewer, case_id: str,
              items: dict[str, dict[str, Any]] | None) -> _Plan:
        """The case's identifiers as the state wants them entered, against its rows."""
        key = SearchKey.of(viewer.keyring, viewer.state)
        case_handles = [SearchKey.of(viewer.keyring, viewer.state, version)
                        .token(f"match-case|{case_id}") for version in viewer.keyring.versions]
        wanted: dict[tuple[bytes, bytes], tuple[str, str, str]] = {}
        own = items if items is not None else self._own_items(viewer, case_id)
        for item_id, item in own.items():
            item_handle = key.token(f"match-item|{case_id}|{item_id}")
            for identifier, written in identifiers(item).items():
                wanted[(item_handle, key.token(f"match-source|{identifier}"))] = \
                    (item_id, identifier, written)
        t = match_tokens.c
        current = (key.version, self.oracle.key_id())
        with self.ledger.transaction() as session:
            held = {(r.item_handle, r.source): (r.key_version, r.oracle_key)
                    for r in session.execute(
                        select(t.item_handle, t.source, t.key_version, t.oracle_key).where(
                            t.state == viewer.state, t.case_handle.in_(case_handles)))}
        # Rows under an older state key or oracle key are entered again (a rotation).
        stale = [k for k, keys in held.items() if k not in wanted or keys != current]
        new = [k for k in wanted if held.get(k) != current]
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
                 new: list[tuple[tuple[bytes, bytes], tuple[str, str, str]]]
                 ) -> tuple[list[tuple[tuple[bytes, bytes], bytes, bytes]], int, str]:
        """The tokens of new identifiers, as many as the day's limit allows, through the
        oracle (blinded here, evaluated there, finalised here), the state's day total and the
        id of the oracle's key that made them."""
        left = min(len(new), self.oracle.left_today(viewer.state))
        new = new[:max(left, 0)]
        if not new:
            return [], 0, ""
        blinded = [oprf.blind(identifier.encode()) for _, (_, identifier, _) in new]
        try:
            evaluated, total, oracle_key = self.oracle.evaluate(
                viewer.actor, [element for _, element in blinded])
        except Busy:  # another request of the state used the rest meanwhile
            return [], 0, ""
        pair = viewer.keyring.current
        public = pair.public().encryption
        found = []
        for (handles, (item_id, identifier, written)), (blind, _), element in zip(
                new, blinded, evaluated, strict=True):
            token = oprf.finalize(identifier.encode(), blind, element)[:TOKEN_BYTES]
            ref = seal_to(public, json.dumps({"case": case_id, "item": item_id,
                                              "marking": written}).encode(),
                          _ref_context(viewer.state, pair.version))
            found.append((handles, token, _versioned(pair.version, ref)))
        return found, total, oracle_key

    def _usage(self, viewer: Viewer, count: int, total: int) -> OracleUsage:
        day = datetime.now(UTC).date().isoformat()
        usage_id = OracleUsage.id_for(viewer.state, day)
        try:
            usage = self.ledger.repository.get(usage_id)
        except AggregateNotFoundError:
            usage = OracleUsage._start(OracleUsage.Started, usage_id, viewer.actor,
                                       state=viewer.state, day=day)
        usage._record(OracleUsage.Evaluated, viewer.actor, count=count, total=total)
        return usage

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
                       ref.get("item", ""), title, item, ref.get("marking", ""),
                       hit.answers.get(viewer.state, ""),
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
