"""Assembles the exchange's parts from settings: event store, keystore, services."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

from eventsourcing.projection import Projection
from sqlalchemy.exc import SAWarning

from cases.api_tokens import ApiTokens
from cases.audit_service import AuditTrail
from cases.case import Case
from cases.directory_service import Directory
from cases.keystore import KeyStore
from cases.ledger import Ledger
from cases.meeting_service import Meetings
from cases.onboarding_service import Onboarding
from cases.policy import PolicyFacts
from cases.releases import Releases
from cases.services import Cases
from cases.tracing_service import Traces
from crypto import DERIVATIONS, KdfParams, UserKey
from crypto.logkey import LogKey
from projections.access_ledger import AccessLedger, AccessLedgerView
from projections.audit_index import AuditIndex, AuditIndexView
from projections.case_index import CaseIndex, CaseIndexView
from projections.checkpoints import Checkpointer, CheckpointStore, Witness
from projections.disclosure import Thresholds
from projections.follower import catch_up
from projections.policy_summary import PolicySummary, PolicySummaryView
from projections.trace_board import TraceBoard, TraceBoardView

from .settings import Settings


@dataclass
class Exchange:
    """Everything a command, a worker or the web app needs, built once per process."""

    settings: Settings
    ledger: Ledger
    keystore: KeyStore
    directory: Directory
    api_tokens: ApiTokens
    cases: Cases
    case_index: CaseIndex
    traces: Traces
    meetings: Meetings
    trace_board: TraceBoard
    audit_index: AuditIndex
    access_ledger: AccessLedger
    policy: PolicyFacts
    policy_summary: PolicySummary
    releases: Releases
    audit: AuditTrail
    checkpoints: CheckpointStore
    checkpointer: Checkpointer
    witness: Witness
    onboarding: Onboarding
    # The end of the log when this process last brought its read models up to it.
    followed_to: int | None = field(default=None, init=False, repr=False)

    def projections(self) -> list[Projection]:
        """Every read model's projection (checkpoints are signed records, not read models)."""
        return [self.case_index, self.trace_board, self.audit_index, self.access_ledger,
                self.policy_summary]

    def streamable(self) -> list[Projection]:
        """The projections that need only each record's own order, so Kafka workers can
        build them. The audit index numbers the Merkle leaves in log order: it follows the
        log itself, with the checkpoints."""
        return [p for p in self.projections() if p is not self.audit_index]

    def followed(self) -> list[Projection]:
        """The projections this process brings up to date from the log."""
        if self.settings.projection_source == "kafka":
            return [self.audit_index]
        return self.projections()

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.settings.disclosure_k, self.settings.disclosure_reporters)

    def follow(self) -> int:
        """Brings the read models this process follows up to the end of the log, then signs
        the checkpoints that are due. When the log has not grown since this process last
        did so, that costs one query: every page that lists calls it (on PostgreSQL the
        positions, checkpoints and audit count were eight round trips a page)."""
        end = self.ledger.recorder.max_notification_id()
        if end is not None and end == self.followed_to:
            return 0
        applied = catch_up(self.ledger, self.followed())
        self.checkpointer.catch_up()
        self.followed_to = end
        return applied

    def close(self) -> None:
        self.ledger.close()
        self.keystore.engine.dispose()


# eventsourcing-sqlalchemy names every projection's tracking-record class alike; harmless here.
warnings.filterwarnings("ignore", message="This declarative base already contains a class",
                        category=SAWarning)


def subgroup_key_of(settings: Settings) -> UserKey:
    """The summary projection's X25519 key, from its file (created, mode 0600, if missing)."""
    path = settings.subgroup_key_file
    if path.exists():
        return UserKey.from_bytes(path.read_bytes())
    key = UserKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
        file.write(key.to_bytes())
    return key


# Loading a case, and time travel to any of its versions, replays at most this many events.
SNAPSHOT_EVERY = 100


def open_exchange(settings: Settings) -> Exchange:
    if not settings.is_postgres:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(env=settings.event_store_env, snapshot_intervals={Case: SNAPSHOT_EVERY})
    keystore = KeyStore(ledger.recorder.datastore.engine)  # type: ignore[attr-defined]
    kdf = KdfParams(memory_kib=settings.kdf_memory_kib, iterations=settings.kdf_iterations,
                    lanes=settings.kdf_lanes)
    DERIVATIONS.configure(settings.kdf_queue, settings.kdf_wait_seconds)
    log_key = LogKey.load_or_create(settings.log_key_file)
    subgroup_key = subgroup_key_of(settings)
    directory = Directory(ledger, keystore, kdf, log_key.public_bytes, subgroup_key.public_bytes)
    datastore = ledger.recorder.datastore  # type: ignore[attr-defined]
    index_view = CaseIndexView(datastore, tracking_table_name="case_index_tracking")
    index_view.create_table()
    board_view = TraceBoardView(datastore, tracking_table_name="trace_board_tracking")
    board_view.create_table()
    audit_view = AuditIndexView(datastore, tracking_table_name="audit_index_tracking")
    audit_view.create_table()
    access_view = AccessLedgerView(datastore, tracking_table_name="access_ledger_tracking")
    access_view.create_table()
    policy_view = PolicySummaryView(datastore, tracking_table_name="policy_summary_tracking")
    policy_view.create_table()
    policy_summary = PolicySummary(policy_view)
    policy_summary.subgroup_key = subgroup_key
    checkpoints = CheckpointStore(datastore.engine)
    checkpointer = Checkpointer(checkpoints, audit_view, log_key, settings.checkpoint_every)
    cases = Cases(ledger, keystore, directory)
    traces = Traces(ledger, keystore, directory, cases)
    if keystore.links_are_new:
        traces.link_all()
    return Exchange(settings=settings, ledger=ledger, keystore=keystore, directory=directory,
                    api_tokens=ApiTokens(directory),
                    cases=cases, case_index=CaseIndex(index_view), traces=traces,
                    meetings=Meetings(ledger, keystore, directory, cases),
                    trace_board=TraceBoard(board_view), audit_index=AuditIndex(audit_view),
                    access_ledger=AccessLedger(access_view),
                    policy=PolicyFacts(cases), policy_summary=policy_summary,
                    releases=Releases(ledger),
                    audit=AuditTrail(ledger), checkpoints=checkpoints, checkpointer=checkpointer,
                    witness=Witness(checkpointer, directory),
                    onboarding=Onboarding(directory, settings.invitation_days))
