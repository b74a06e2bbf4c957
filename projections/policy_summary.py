"""The tier-1 summary projection: the only holder of the subgroup key.

It keeps one row per proposed case: its owner, the states concerned, the consents, and the
proposal's facts as sealed in the log. The facts are opened only in memory, when a summary is
computed (`PolicySummary.included`), through the proposal's facts key in the keystore: a
stolen database holds no fact in clear, and a shredded case's facts no longer open. Only cases
whose consent is complete count; a withdrawal or a shredding takes the case out of every
later summary. Published tables (`projections.summaries`) carry counts only.
"""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, Text, delete, select

from cases.casework.case import Case
from cases.kernel.keystore import KeyStore
from cases.policy.facts import open_facts
from crypto import CryptoError, UserKey

from .read_model import ReadModel

metadata = MetaData()

policy_facts = Table(
    "policy_facts",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("owner", String(3), nullable=False),
    Column("version", Integer, nullable=False),  # of the proposal's event
    Column("sealed", LargeBinary, nullable=False),  # the facts, as sealed in that event
    Column("concerned", Text, nullable=False),
    Column("consents", Text, nullable=False),
)


def _codes(text: str) -> set[str]:
    return {c for c in text.split(",") if c}


class PolicySummaryView(ReadModel):

    metadata = metadata

    def row(self, session: Any, case_id: str) -> dict[str, Any] | None:
        found = session.execute(select(policy_facts).where(
            policy_facts.c.case_id == case_id)).first()
        return dict(found._mapping) if found else None

    def put(self, tracking: Tracking, case_id: str, owner: str, version: int, sealed: bytes,
            concerned: list[str]) -> None:
        """Stores (or refreshes) a case's proposal; consent restarts if the concerned
        changed."""
        with self.transaction(commit=True) as session:
            old = self.row(session, case_id)
            consents = _codes(old["consents"]) if old and \
                _codes(old["concerned"]) == set(concerned) else set()
            session.execute(delete(policy_facts).where(policy_facts.c.case_id == case_id))
            session.execute(policy_facts.insert().values(
                case_id=case_id, owner=owner, version=version, sealed=sealed,
                concerned=",".join(sorted(concerned)),
                consents=",".join(sorted(consents | {owner}))))
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

    def consented(self) -> list[dict[str, Any]]:
        """The proposals whose tier-1 consent is complete, facts still sealed."""
        with self.transaction(commit=False) as session:
            rows = [dict(r._mapping) for r in session.execute(select(policy_facts))]
        return [r for r in rows
                if _codes(r["concerned"]) | {r["owner"]} <= _codes(r["consents"])]


class PolicySummary(Projection[PolicySummaryView]):
    name = "policy_summary"
    subgroup_key: UserKey  # set by the wiring: the projection is the key's only holder
    keystore: KeyStore  # where each proposal's facts key is, sealed to the subgroup key

    def __init__(self, view: PolicySummaryView) -> None:
        super().__init__(view)
        self._opened: dict[tuple[str, int], dict[str, Any]] = {}  # facts of included cases

    def included(self) -> list[dict[str, Any]]:
        """The facts of every case whose tier-1 consent is complete, with its id and its
        owner (the reporting state the rules count). Facts that no longer open (shredded, or
        sealed to another subgroup key) do not count. Opened facts stay in this process's
        memory only while their case is included."""
        rows = self.view.consented()
        wanted = {(r["case_id"], r["version"]) for r in rows}
        missing = wanted - set(self._opened)
        keys = self.keystore.policy_fact_keys(missing) if missing else {}
        opened = {pair: self._opened[pair] for pair in wanted & set(self._opened)}
        for row in rows:
            pair = (row["case_id"], row["version"])
            if pair in missing:
                try:
                    opened[pair] = open_facts(row["sealed"], keys.get(pair),
                                              self.subgroup_key.private, *pair)
                except (CryptoError, ValueError, KeyError):
                    continue
        self._opened = opened
        return [dict(opened[pair], case_id=row["case_id"], owner=row["owner"])
                for row in rows if (pair := (row["case_id"], row["version"])) in opened]


    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, event: Case.PolicyFactsSealed, tracking: Tracking) -> None:
        owner = event.actor_state  # only the owner's users seal policy facts
        self.view.put(tracking, str(event.originator_id), owner, event.originator_version,
                      event.body_bytes(), list(event.concerned))

    @process_event.register
    def _(self, event: Case.PolicyConsentGiven, tracking: Tracking) -> None:
        self.view.consent(tracking, str(event.originator_id), event.actor_state, True)

    @process_event.register
    def _(self, event: Case.PolicyConsentWithdrawn, tracking: Tracking) -> None:
        self.view.consent(tracking, str(event.originator_id), event.actor_state, False)

    @process_event.register
    def _(self, event: Case.Shredded, tracking: Tracking) -> None:
        self.view.forget(tracking, str(event.originator_id))
