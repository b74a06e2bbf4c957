"""Tier 1: a case's coarse facts for the WGETI subgroup, sealed to the subgroup key.

The owner proposes a case (WGTR co-chairs' report §41: trends go to the subgroup only "if the
states concerned find it useful and acceptable"); every concerned member state consents or
withdraws. The facts are coarse categories only; they count once consent is complete.

Each proposal seals its facts under a fresh key, and that key to the subgroup key, which only
the summary projection holds. The facts go into the log; the key goes into the keystore, so
shredding the case deletes it and the subgroup key opens nothing of a shredded case. (Stores
written before this kept the facts sealed to the subgroup key itself: `open_facts` still reads
them, and those stay readable with the subgroup key after a shredding.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pycountry
import pycountry_convert

from cases.casework.case import Case
from cases.casework.case_service import Cases
from cases.casework.view import CaseView
from cases.identity.directory import SECRETARIAT_CODE, STATE_PARTY
from cases.kernel.errors import Conflict, Forbidden, NotFound
from cases.kernel.viewer import ANALYST, STATE_ADMIN, Viewer
from crypto import CaseKey, CryptoError, canonical_json, open_sealed, seal_to
from crypto.boxes import BOX_FORMAT

UNKNOWN = "unknown"
MIXED = "mixed"


def policy_context(case_id: UUID, version: int) -> dict[str, Any]:
    """The HPKE context of sealed policy facts: bound to one case and event."""
    return {"case": str(case_id), "version": version, "purpose": "policy-facts"}


def region_of(code: str) -> str:
    """The continent of a country (ISO alpha-3), or 'unknown'."""
    country = pycountry.countries.get(alpha_3=code or "")
    try:
        continent = pycountry_convert.country_alpha2_to_continent_code(country.alpha_2)
        return pycountry_convert.convert_continent_code_to_continent_name(continent)
    except (AttributeError, KeyError, ValueError):
        return UNKNOWN


def coarse_facts(view: CaseView, traces: list[Any]) -> dict[str, Any]:
    """The only facts of a case that ever reach tier 1: categories and yes/no, no text."""
    categories = {item.get("category") or UNKNOWN for item in view.items.values()}
    answered = [t for t in traces if t.answered_on is not None]
    found_on = view.summary.get("found_on")
    return {
        "year": int(found_on[:4]) if found_on else view.opened_on.year,
        "region": region_of((view.summary.get("concerned") or {}).get("discovery", "")),
        "category": categories.pop() if len(categories) == 1 else
        (MIXED if categories else UNKNOWN),
        "point_of_diversion": view.summary.get("point_of_diversion") or UNKNOWN,
        "status": view.status,
        "items": len(view.items),
        "trace_requested": bool(traces),
        "traced": any(t.outcome == "traced" for t in answered),
        "answered_in_time": any(t.answered_on <= t.deadline for t in answered),
    }


@dataclass(frozen=True)
class PolicyStatus:
    concerned: list[str]
    consents: list[str]
    complete: bool


class PolicyFacts:
    def __init__(self, cases: Cases) -> None:
        self.cases = cases
        self.ledger = cases.ledger
        self.directory = cases.directory

    def propose(self, viewer: Viewer, case_id: UUID) -> list[str]:
        """Seals the case's coarse facts for the subgroup; returns the member states whose
        consent is awaited. Proposing again refreshes the facts."""
        view = self.cases.view(viewer, case_id)
        if view.owner != viewer.state or not (viewer.has(ANALYST) or viewer.has(STATE_ADMIN)):
            raise Forbidden("Only analysts or admins of the owner state propose a case for "
                            "the tier-1 summaries.")
        keys = self.directory.state(SECRETARIAT_CODE).subgroup_keys
        if not keys:
            raise Conflict("No subgroup key is published yet; ask the secretariat.")
        concerned = self._member_states(view)
        case = self.ledger.get_as(Case, case_id, NotFound("No such case."))
        facts = coarse_facts(view, self.cases.trace_requests_of(case.id))
        version = case.version + 1
        body, sealed_key = seal_facts(facts, bytes.fromhex(keys[-1]), case.id, version)
        case.seal_policy_facts(viewer.actor, concerned, body)
        with self.ledger.transaction() as session:
            self.ledger.save(case)
            self.cases.keystore.put_policy_fact_key(session, str(case.id), version, sealed_key)
        return sorted(set(concerned) - {view.owner})

    def consent(self, viewer: Viewer, case_id: UUID, given: bool) -> None:
        case = self.ledger.get_as(Case, case_id, NotFound("No such case."))
        if not case.readable_by(viewer.state):
            raise NotFound("No such case.")
        if not (viewer.has(ANALYST) or viewer.has(STATE_ADMIN)):
            raise Forbidden("Only analysts or admins give their state's consent.")
        case.consent_to_policy(viewer.actor, given)
        self.ledger.save_all(case)

    def status(self, viewer: Viewer, case_id: UUID) -> PolicyStatus | None:
        case = self.ledger.get_as(Case, case_id, NotFound("No such case."))
        if not case.readable_by(viewer.state):
            raise NotFound("No such case.")
        if case.policy_concerned is None:
            return None
        return PolicyStatus(list(case.policy_concerned), sorted(case.policy_consents),
                            case.in_policy_summaries)

    def _member_states(self, view: CaseView) -> list[str]:
        codes = set((view.summary.get("concerned") or {}).values()) - {view.owner}
        members = []
        for code in sorted(codes):
            try:
                if self.directory.state(code).status == STATE_PARTY:
                    members.append(code)
            except NotFound:
                continue  # not in the exchange: it cannot consent, and is not asked
        return members


def seal_facts(facts: dict[str, Any], subgroup_public: bytes, case_id: UUID,
               version: int) -> tuple[bytes, bytes]:
    """A proposal's facts sealed under a fresh facts key (for the log), and that key sealed
    to the subgroup key (for the keystore)."""
    context = policy_context(case_id, version)
    facts_key = CaseKey.generate()
    return (facts_key.seal(canonical_json(facts), canonical_json(context)),
            seal_to(subgroup_public, facts_key.secret, context))


def open_facts(body: bytes, sealed_key: bytes | None, private: Any, case_id: UUID | str,
               version: int) -> dict[str, Any]:
    """The facts of one proposal as the summary projection reads them with the subgroup
    key: through the proposal's facts key (`CryptoError` if it was shredded), or, for a
    proposal of a store before facts keys, directly."""
    context = policy_context(UUID(str(case_id)), version)
    if body[:1] == bytes([BOX_FORMAT]):
        return json.loads(open_sealed(private, body, context))
    if sealed_key is None:
        raise CryptoError("the facts key of this proposal is gone")
    facts_key = CaseKey(1, open_sealed(private, sealed_key, context))
    return json.loads(facts_key.open(body, canonical_json(context)))
