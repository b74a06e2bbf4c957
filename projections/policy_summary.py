"""The tier-1 summary projection: the only holder of the subgroup key.

It opens the coarse facts the owners sealed to the subgroup key, follows consent, and keeps
one row per proposed case. Only cases whose consent is complete are `included`; a withdrawal
or a shredding takes the case out of every later summary. The case ids stay in this table;
published tables (`projections.summaries`) carry counts only.
"""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text, delete, select

from cases.casework.case import Case
from cases.policy.facts import open_facts
from crypto import CryptoError, UserKey

from .read_model import ReadModel

metadata = MetaData()

policy_facts = Table(
    "policy_facts",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("owner", String(3), nullable=False),
    Column("year", Integer, nullable=False),
    Column("region", String(32), nullable=False),
    Column("category", String(32), nullable=False),
    Column("point_of_diversion", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("items", Integer, nullable=False),
    Column("trace_requested", Boolean, nullable=False),
    Column("traced", Boolean, nullable=False),
    Column("answered_in_time", Boolean, nullable=False),
    Column("concerned", Text, nullable=False),
    Column("consents", Text, nullable=False),
)

FACT_COLUMNS = ("year", "region", "category", "point_of_diversion", "status", "items",
                "trace_requested", "traced", "answered_in_time")


def _codes(text: str) -> set[str]:
    return {c for c in text.split(",") if c}


class PolicySummaryView(ReadModel):

    metadata = metadata

    def row(self, session: Any, case_id: str) -> dict[str, Any] | None:
        found = session.execute(select(policy_facts).where(
            policy_facts.c.case_id == case_id)).first()
        return dict(found._mapping) if found else None

    def put(self, tracking: Tracking, case_id: str, owner: str, facts: dict[str, Any] | None,
            concerned: list[str]) -> None:
        """Stores (or refreshes) a case's facts; consent restarts if the concerned changed."""
        with self.transaction(commit=True) as session:
            old = self.row(session, case_id)
            consents = _codes(old["consents"]) if old and \
                _codes(old["concerned"]) == set(concerned) else set()
            session.execute(delete(policy_facts).where(policy_facts.c.case_id == case_id))
            if facts is not None:
                session.execute(policy_facts.insert().values(
                    case_id=case_id, owner=owner, concerned=",".join(sorted(concerned)),
                    consents=",".join(sorted(consents | {owner})),
                    **{k: facts[k] for k in FACT_COLUMNS}))
            self._insert_tracking(session, tracking)

    def consent(self, tracking: Tracking, case_id: str, state: str, given: bool) -> None:
        with self.transaction(commit=True) as session:
            old = self.row(session, case_id)
            if old is not None:
                consents = _codes(old["consents"]) | {state} if given \
                    else _codes(old["consents"]) - {state}
                session.execute(policy_facts.update().where(
                    policy_facts.c.case_id == case_id).values(consents=",".join(sorted(consents))))
            self._insert_tracking(session, tracking)

    def forget(self, tracking: Tracking, case_id: str) -> None:
        with self.transaction(commit=True) as session:
            session.execute(delete(policy_facts).where(policy_facts.c.case_id == case_id))
            self._insert_tracking(session, tracking)

    def included(self) -> list[dict[str, Any]]:
        """The facts of every case whose tier-1 consent is complete (with its owner, who is
        the reporting state the thresholds count)."""
        with self.transaction(commit=False) as session:
            rows = [dict(r._mapping) for r in session.execute(select(policy_facts))]
        return [r for r in rows
                if _codes(r["concerned"]) | {r["owner"]} <= _codes(r["consents"])]



class PolicySummary(Projection[PolicySummaryView]):
    name = "policy_summary"
    subgroup_key: UserKey  # set by the wiring: the projection is the key's only holder

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, event: Case.PolicyFactsSealed, tracking: Tracking) -> None:
        owner = event.actor_state  # only the owner's users seal policy facts
        try:
            facts = open_facts(event.body_bytes(), self.subgroup_key.private,
                               event.originator_id, event.originator_version)
        except (CryptoError, ValueError, KeyError):
            facts = None  # sealed to another subgroup key: it cannot count
        self.view.put(tracking, str(event.originator_id), owner, facts, list(event.concerned))

    @process_event.register
    def _(self, event: Case.PolicyConsentGiven, tracking: Tracking) -> None:
        self.view.consent(tracking, str(event.originator_id), event.actor_state, True)

    @process_event.register
    def _(self, event: Case.PolicyConsentWithdrawn, tracking: Tracking) -> None:
        self.view.consent(tracking, str(event.originator_id), event.actor_state, False)

    @process_event.register
    def _(self, event: Case.Shredded, tracking: Tracking) -> None:
        self.view.forget(tracking, str(event.originator_id))
