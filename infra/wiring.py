"""Assembles the exchange's parts from settings: event store, keystore, services.

Two steps: `prepare_store` makes the database ready (tables, indexes, backfills) and is the
only one that changes its schema; `open_exchange` then wires the parts over it. The CLI and the
WSGI entry prepare before they open; a worker or test that opens a prepared store need not.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from eventsourcing.projection import Projection
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SAWarning
from sqlalchemy.pool import NullPool

from cases.audit.audit_service import AuditTrail
from cases.casework.attachment_store import AttachmentStore
from cases.casework.case import Case
from cases.casework.case_service import Cases
from cases.casework.contribution_service import Contributions
from cases.hits import match_index, oracle
from cases.hits.hit_service import Hits
from cases.hits.oracle import MatchOracle, Oracle, RemoteOracle
from cases.identity.api_token_service import ApiTokens
from cases.identity.directory_service import Directory
from cases.identity.invitation_store import InvitationStore
from cases.identity.lockout import Lockout
from cases.identity.onboarding_service import Onboarding
from cases.kernel.errors import NotFound
from cases.kernel.keystore import KeyStore
from cases.kernel.ledger import Ledger
from cases.kernel.viewer import ANALYST, Viewer
from cases.meetings.meeting_service import Meetings
from cases.notifications.addresses import MailAddresses
from cases.policy.facts import PolicyFacts
from cases.policy.releases import Releases
from cases.search.index import SearchStore
from cases.search.search_service import CaseSearch
from cases.search.terms import Query
from cases.tracing.tracing_service import Traces, link_trace_requests
from crypto import DERIVATIONS, KdfParams, UserKey
from crypto.logkey import LogKey, key_fingerprint
from projections.access_ledger import AccessLedger, AccessLedgerView
from projections.audit_index import AuditIndex, AuditIndexView
from projections.case_index import CaseFilter, CaseIndex, CaseIndexView, CaseOrder, CaseRow
from projections.case_search import CaseSearchView
from projections.checkpoints import Checkpointer, CheckpointStore
from projections.disclosure import Thresholds
from projections.follower import ProjectionGap, catch_up
from projections.inbox import Inbox
from projections.inbox_view import InboxView
from projections.policy_summary import PolicySummary, PolicySummaryView
from projections.read_model import ReadModel
from projections.tiles import Tiles
from projections.trace_board import TraceBoard, TraceBoardView
from projections.witness import Witness
from web import sessions as web_sessions
from web import sign_ins as web_sign_ins

from .settings import Settings
from .witness_client import ExternalWitnesses

logger = logging.getLogger("divex.follower")

PORTAL_RECHECK_SECONDS = 300.0
# After a state's analyst found none of its hit checks due (`Hits.refresh`), its requests do
# not look again for this long, unless its keys rotate: ~2.5 ms of round trips on every list
# page, for rows an oracle key rotation or a new day's limit leaves due, rarely.
HITS_RECHECK_SECONDS = 60.0

# A request of a state's user indexes at most this many of the cases its state waits to have
# indexed, and stops starting new ones after this long.
INDEX_BATCH = 25
INDEX_SECONDS = 0.05
# Past this many events since a state last had nothing to index, it is looked for among all
# the cases it reads rather than among those the events touched.
INDEX_LOOKBACK = 1000
# A state's mark is stored when it passes a multiple of this (`index_for`).
MARK_EVERY = 250


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
    contributions: Contributions
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
    external_witnesses: ExternalWitnesses
    tiles: Tiles
    onboarding: Onboarding
    inbox: Inbox
    mail_addresses: MailAddresses
    search: CaseSearch
    case_search_view: CaseSearchView
    hits: Hits
    # The end of the log when this process last brought its read models up to it.
    followed_to: int | None = field(default=None, init=False, repr=False)
    # (state, search key version) -> the end of the log when this process last found nothing
    # of that state's to index (see `index_for`).
    indexed_to: dict[tuple[str, int], int] = field(default_factory=dict, init=False,
                                                   repr=False)
    # (state, key version) -> until when its hit checks are not looked for (`index_for`).
    hits_quiet: dict[tuple[str, int], float] = field(default_factory=dict, init=False,
                                                     repr=False)
    # state -> (the States Parties, when): this process last found every portal case of the
    # state readable by all of them then (see `portal_cases_lacking`).
    portal_complete: dict[str, tuple[frozenset[str], float]] = field(
        default_factory=dict, init=False, repr=False)
    # One catch-up at a time in this process: the background follower and the requests.
    following: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def projections(self) -> list[Projection]:
        """Every read model's projection (checkpoints are signed records, not read models)."""
        return [self.case_index, self.trace_board, self.audit_index, self.access_ledger,
                self.policy_summary, self.inbox]

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
        return Thresholds(self.settings.disclosure_k, self.settings.disclosure_reporters,
                          self.settings.disclosure_dominance, self.settings.disclosure_protection)

    def follow(self, progress: Callable[[int], None] | None = None) -> int:
        """Brings the read models this process follows up to the end of the log, then signs
        the checkpoints that are due. When the log has not grown since this process last
        did so, that costs one query: every page that lists calls it (on PostgreSQL the
        positions, checkpoints and audit count were eight round trips a page). ``progress``
        is told how many events each batch brought in.

        A request that finds the background follower (`keep_following`) at work waits for
        it, then finds the log followed: the page still shows what its user just did."""
        with self.following:
            end = self.ledger.last_id()
            if end is not None and end == self.followed_to:
                return 0
            try:  # this process brought every read model to `followed_to` last time
                applied = catch_up(self.ledger, self.followed(), progress,
                                   since=self.followed_to)
            except ProjectionGap:  # one was dropped since (a rebuild): from the models' marks
                applied = catch_up(self.ledger, self.followed(), progress)
            if self.checkpointer.catch_up():
                self.external_witnesses.submit_latest()
            self.followed_to = end
            return applied

    def start_following(self, every: float | None = None) -> Callable[[], None]:
        """Starts `keep_following` in a daemon thread, looking for other processes' events
        every ``every`` seconds (``DIVEX_FOLLOW_SECONDS``); returns what stops it (and
        waits for it to end)."""
        every = self.settings.follow_seconds if every is None else every
        stop = threading.Event()
        thread = threading.Thread(target=self.keep_following, args=(stop, every),
                                  daemon=True, name="divex-follower")
        thread.start()

        def stopped() -> None:
            stop.set()
            self.ledger.written.set()  # wakes it
            thread.join()
        return stopped

    def keep_following(self, stop: threading.Event, every: float) -> None:
        """The background follower of a server process: brings the read models up as soon
        as this process has committed events, and every ``every`` seconds for other
        processes' events, until ``stop`` is set. So the projection work of a change is
        done beside the request that made it, not in the next page's request."""
        while not stop.is_set():
            self.ledger.written.wait(every)
            if stop.is_set():
                return
            self.ledger.written.clear()
            try:
                self.follow()
            except Exception:  # a database outage: try again, as the next request would
                logger.exception("the background follower failed; trying again")
                stop.wait(every)

    def portal_cases_lacking(self, state: str, parties: list[str], limit: int) -> list[str]:
        """The state's portal cases that some of ``parties`` cannot read yet (at most
        ``limit``). Once none did, the same States Parties are not looked for again for
        `PORTAL_RECHECK_SECONDS`: the query reads every portal case of the state, ~40 ms a
        page at 100,000 cases, and cases lack a party only after the parties change (a new
        party is looked for at once) or a share races a party joining (caught at the next
        check)."""
        parties_now, known = frozenset(parties), self.portal_complete.get(state)
        if known and known[0] == parties_now and \
                time.monotonic() - known[1] < PORTAL_RECHECK_SECONDS:
            return []
        lacking = self.case_index.view.portal_cases_lacking(state, parties, limit)
        if lacking:
            self.portal_complete.pop(state, None)
        else:
            self.portal_complete[state] = (parties_now, time.monotonic())
        return lacking

    def receipt(self, notification_id: int) -> str:
        """The event's tlog-proof under the newest checkpoint (`cases.audit.receipt`)."""
        row = self.audit_index.view.row(notification_id) if notification_id < 2**63 else None
        if row is None:
            raise NotFound("No event with notification id %(id)s.", id=notification_id)
        return self.checkpointer.receipt(self.audit.record(notification_id), row.position)

    def index_for(self, viewer: Viewer) -> int:
        """Indexes, in the viewer's request, a batch of the cases their state reads that
        wait for it (new readers, changes since, a rotated key); returns how many still
        wait. Only such a request holds the state's keyring, hence its search key.

        Once nothing of the state's waited at some point of the log, only the cases that
        later events touched can wait: they are the only ones looked at (comparing every
        case the state reads with its search rows took ~100 ms a page for 6,000 cases)."""
        mark, end = (viewer.state, viewer.keyring.current.version), self.followed_to or 0
        # After a key rotation: a batch of the state's hit checks.
        if viewer.has(ANALYST) and time.monotonic() >= self.hits_quiet.get(mark, 0.0) \
                and not self.hits.refresh(viewer):
            self.hits_quiet[mark] = time.monotonic() + HITS_RECHECK_SECONDS
        since = self.indexed_to.get(mark)
        if since is None:
            since = self.search.store.indexed_to(*mark)
        if since == end:
            return 0
        touched = None
        if since is not None and end - since <= INDEX_LOOKBACK:
            touched = sorted(self.ledger.touched(since, end))
        waiting, total = self.case_search_view.unindexed(*mark, INDEX_BATCH, among=touched)
        left = total - self.search.index(viewer, waiting, INDEX_SECONDS) if waiting else 0
        if not left:
            self.indexed_to[mark] = end
            if since is None or since // MARK_EVERY != end // MARK_EVERY:
                self.search.store.note_indexed_to(*mark, end)  # not a write per request
        return left

    def case_search(self, viewer: Viewer, query: Query, where: CaseFilter, offset: int = 0,
                    limit: int = 20, order: CaseOrder | None = None, exact: bool = False
                    ) -> tuple[list[CaseRow], int | None]:
        """A page of the cases the viewer's state reads now that the filter keeps and the
        query matches, in ``order`` or else (all of them for an empty query) newest change
        first, or most terms matched first; and how many in all. A search of common words
        only comes newest first and uncounted (None), unless ``exact``
        (`CaseSearchView.search_for`)."""
        if not query:
            return self.case_index.view.list_for(viewer.state, where, offset, limit,
                                                 order or CaseOrder())
        rows, total = self.case_search_view.search_for(
            viewer.state, where, self.search.match(viewer, query), offset, limit, order,
            exact)
        shredded = [row.case_id for row in rows if row.shredded_on]
        if shredded:  # indexed while it was shredded: its rows go now
            self.search.forget_stale(viewer, shredded)
        return ([row for row in rows if not row.shredded_on],
                None if total is None else total - len(shredded))

    def close(self) -> None:
        self.ledger.close()
        self.keystore.engine.dispose()


# eventsourcing-sqlalchemy names every projection's tracking-record class alike; harmless here.
warnings.filterwarnings("ignore", message="This declarative base already contains a class",
                        category=SAWarning)


def log_origin(log_key: LogKey) -> str:
    """The checkpoints' origin when ``DIVEX_LOG_ORIGIN`` is not set: a name no host can have
    (RFC 2606 ``.invalid``) holding the log key's fingerprint, so two exchanges never share
    one and it changes only with the key."""
    return f"divex.invalid/{key_fingerprint(log_key.public_bytes)}"


def oracle_of(settings: Settings, ledger: Ledger) -> Oracle:
    """The match oracle: `divex oracle` at ``DIVEX_ORACLE_URL`` (scaled out: this process
    never reads its key), or else in this process, with its key file."""
    if settings.oracle_url:
        return RemoteOracle(ledger.recorder.datastore.engine,  # type: ignore[attr-defined]
                            settings.oracle_url, settings.oracle_daily_limit)
    return MatchOracle(ledger, settings.oracle_key_file, settings.oracle_daily_limit)


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


def _ledger(settings: Settings, *, create_tables: bool) -> Ledger:
    env = {**settings.event_store_env, "CREATE_TABLE": "y" if create_tables else "n"}
    return Ledger(env=env, snapshot_intervals={Case: SNAPSHOT_EVERY})


@dataclass(frozen=True)
class ReadModelViews:
    """The read models' tables, each beside its tracking tables."""

    case_index: CaseIndexView
    trace_board: TraceBoardView
    audit_index: AuditIndexView
    access_ledger: AccessLedgerView
    policy_summary: PolicySummaryView
    inbox: InboxView

    @classmethod
    def on(cls, datastore: SQLAlchemyDatastore) -> ReadModelViews:
        return cls(
            CaseIndexView(datastore, tracking_table_name="case_index_tracking"),
            TraceBoardView(datastore, tracking_table_name="trace_board_tracking"),
            AuditIndexView(datastore, tracking_table_name="audit_index_tracking"),
            AccessLedgerView(datastore, tracking_table_name="access_ledger_tracking"),
            PolicySummaryView(datastore, tracking_table_name="policy_summary_tracking"),
            InboxView(datastore, tracking_table_name="inbox_tracking"))

    def all(self) -> tuple[ReadModel, ...]:
        return (self.case_index, self.trace_board, self.audit_index, self.access_ledger,
                self.policy_summary, self.inbox)


def _sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database's file, if the store is one (not PostgreSQL, memory or a URI)."""
    if settings.is_postgres:
        return None
    database = make_url(settings.database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def private_data_dir(settings: Settings) -> None:
    """The data folder (mode 0700 when divex creates it) and the SQLite file (mode 0600),
    readable by their owner only, as the key files are. SQLite gives its -wal and -shm side
    files the mode of the database file, so they are owner-only too. A folder that already
    exists keeps its mode (it may be shared, e.g. the current folder); divex's own SQLite
    files are tightened even if an older version made them 0644."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = _sqlite_file(settings)
    if path is None:
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        # Only a file nobody has open: closing any descriptor of an open SQLite file drops
        # the process's locks on it. An empty file is a new database to SQLite.
        with suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for side in ("", "-wal", "-shm", "-journal"):
        file = path.with_name(path.name + side)
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def prepare_store(settings: Settings) -> None:
    """Makes the store ready to open: creates what is missing (the event store's tables and
    topic index, the keystore, lockout, checkpoint and mail address tables, the web's
    session and sign-in tables, the read models' tables with the inbox's read markers and
    mail outbox, a read model of an older shape being dropped to be rebuilt as it catches
    up) and backfills what an older store lacks (the trace-request links). Safe to run
    again, and by several processes at once (`_preparing_alone`); run by `divex` commands
    and the WSGI entry before `open_exchange`."""
    private_data_dir(settings)
    with _preparing_alone(settings):
        _prepare(settings)


_PREPARING = int.from_bytes(b"divex-pr", "big") >> 1  # the advisory lock's key (a bigint)


@contextmanager
def _preparing_alone(settings: Settings) -> Iterator[None]:
    """Lets one process at a time prepare the store. Two gunicorn workers starting on a new
    PostgreSQL database both found a table missing and both created it, and the second
    failed to boot (a unique violation in pg_type), taking the server down: on PostgreSQL a
    session advisory lock, on SQLite an exclusive lock on a file beside the database."""
    if settings.is_postgres:
        engine = create_engine(settings.database_url, poolclass=NullPool)
        try:
            with engine.connect() as db:
                db.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PREPARING})
                try:
                    yield
                finally:
                    db.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PREPARING})
        finally:
            engine.dispose()
        return
    path = _sqlite_file(settings)
    if path is None:
        yield
        return
    descriptor = os.open(f"{path}.prepare-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # and with it the lock


def _prepare(settings: Settings) -> None:
    ledger = _ledger(settings, create_tables=True)
    try:
        datastore = ledger.recorder.datastore  # type: ignore[attr-defined]
        ledger.create_indexes()
        keystore = KeyStore(datastore.engine)
        links_are_new = keystore.create_tables()
        Lockout(datastore.engine).create_table()
        InvitationStore(datastore.engine).create_table()
        CheckpointStore(datastore.engine).create_tables()
        MailAddresses(datastore.engine).create_tables()
        SearchStore(datastore.engine).create_tables()
        web_sessions.metadata.create_all(datastore.engine)
        web_sign_ins.metadata.create_all(datastore.engine)
        match_index.metadata.create_all(datastore.engine)
        oracle.metadata.create_all(datastore.engine)
        for view in ReadModelViews.on(datastore).all():
            view.create_table()
        if links_are_new:
            link_trace_requests(ledger, keystore)
    finally:
        ledger.close()


def open_exchange(settings: Settings) -> Exchange:
    """The exchange over a store `prepare_store` made ready; changes nothing in it."""
    ledger = _ledger(settings, create_tables=False)
    datastore = ledger.recorder.datastore  # type: ignore[attr-defined]
    keystore = KeyStore(datastore.engine)
    kdf = KdfParams(memory_kib=settings.kdf_memory_kib, iterations=settings.kdf_iterations,
                    lanes=settings.kdf_lanes)
    DERIVATIONS.configure(settings.kdf_queue, settings.kdf_wait_seconds)
    log_key = LogKey.load_or_create(settings.log_key_file)
    subgroup_key = subgroup_key_of(settings)
    directory = Directory(ledger, keystore, kdf, log_key.public_bytes, subgroup_key.public_bytes)
    views = ReadModelViews.on(datastore)
    policy_summary = PolicySummary(views.policy_summary)
    policy_summary.subgroup_key = subgroup_key
    policy_summary.keystore = keystore
    checkpoints = CheckpointStore(datastore.engine)
    checkpointer = Checkpointer(checkpoints, views.audit_index, log_key, settings.checkpoint_every,
                                settings.log_origin or log_origin(log_key))
    cases = Cases(ledger, keystore, directory)
    search = CaseSearch(cases, SearchStore(datastore.engine))
    cases.indexer = search.index
    files = AttachmentStore(keystore, settings.attachment_max_mib << 20,
                            settings.case_attachments_max_mib << 20)
    hits = Hits(ledger, cases, oracle_of(settings, ledger))
    cases.matcher = hits.check_case
    return Exchange(settings=settings, ledger=ledger, keystore=keystore, directory=directory,
                    api_tokens=ApiTokens(directory),
                    cases=cases, case_index=CaseIndex(views.case_index),
                    traces=Traces(ledger, keystore, directory, cases, zone=settings.zone,
                                  files=files),
                    contributions=Contributions(ledger, keystore, cases, files),
                    meetings=Meetings(ledger, keystore, directory, cases, files),
                    trace_board=TraceBoard(views.trace_board),
                    audit_index=AuditIndex(views.audit_index),
                    access_ledger=AccessLedger(views.access_ledger),
                    policy=PolicyFacts(cases), policy_summary=policy_summary,
                    releases=Releases(ledger),
                    audit=AuditTrail(ledger, keystore), checkpoints=checkpoints,
                    checkpointer=checkpointer,
                    witness=Witness(checkpointer, directory),
                    external_witnesses=ExternalWitnesses(checkpointer, settings.witnesses),
                    tiles=Tiles(checkpoints, views.audit_index, checkpointer.subtrees),
                    onboarding=Onboarding(directory, settings.invitation_days),
                    inbox=Inbox(views.inbox),
                    mail_addresses=MailAddresses(datastore.engine),
                    search=search, case_search_view=CaseSearchView(views.case_index),
                    hits=hits)
