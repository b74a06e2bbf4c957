"""Assembles the exchange's parts from settings: event store, keystore, services."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from sqlalchemy.exc import SAWarning

from cases.directory_service import Directory
from cases.keystore import KeyStore
from cases.ledger import Ledger
from cases.meeting_service import Meetings
from cases.services import Cases
from cases.tracing_service import Traces
from crypto import KdfParams
from projections.case_index import CaseIndex, CaseIndexView
from projections.follower import catch_up
from projections.trace_board import TraceBoard, TraceBoardView

from .settings import Settings


@dataclass
class Exchange:
    """Everything a command, a worker or the web app needs, built once per process."""

    settings: Settings
    ledger: Ledger
    keystore: KeyStore
    directory: Directory
    cases: Cases
    case_index: CaseIndex
    traces: Traces
    meetings: Meetings
    trace_board: TraceBoard

    def follow(self) -> int:
        """Brings the in-process read models up to the end of the log."""
        return catch_up(self.ledger, self.case_index) + catch_up(self.ledger, self.trace_board)

    def close(self) -> None:
        self.ledger.close()
        self.keystore.engine.dispose()


# eventsourcing-sqlalchemy names every projection's tracking-record class alike; harmless here.
warnings.filterwarnings("ignore", message="This declarative base already contains a class",
                        category=SAWarning)


def open_exchange(settings: Settings) -> Exchange:
    if not settings.is_postgres:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(env=settings.event_store_env)
    keystore = KeyStore(ledger.recorder.datastore.engine)  # type: ignore[attr-defined]
    kdf = KdfParams(memory_kib=settings.kdf_memory_kib, iterations=settings.kdf_iterations,
                    lanes=settings.kdf_lanes)
    directory = Directory(ledger, keystore, kdf)
    datastore = ledger.recorder.datastore  # type: ignore[attr-defined]
    index_view = CaseIndexView(datastore, tracking_table_name="case_index_tracking")
    index_view.create_table()
    board_view = TraceBoardView(datastore, tracking_table_name="trace_board_tracking")
    board_view.create_table()
    cases = Cases(ledger, keystore, directory)
    return Exchange(settings=settings, ledger=ledger, keystore=keystore, directory=directory,
                    cases=cases, case_index=CaseIndex(index_view),
                    traces=Traces(ledger, keystore, directory, cases),
                    meetings=Meetings(ledger, keystore, directory, cases),
                    trace_board=TraceBoard(board_view))
