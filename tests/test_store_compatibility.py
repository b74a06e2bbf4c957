"""A store written before cases/ became subpackages opens, reads and verifies after it.

`tests/data/store-before-subpackages` is a `divex demo` store made by the last commit with the
flat cases/ (fast KDF). Event topics (``cases.case:Case.Opened``) are signed in each header
and bind each sealed body, so the moved classes must keep them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.utils import get_topic, resolve_topic
from sqlalchemy import text

from cases.audit.log import verify_log
from infra.wiring import Exchange, open_exchange, prepare_store
from projections.case_index import CaseFilter
from tests.conftest import make_settings

OLD_STORE = Path(__file__).parent / "data" / "store-before-subpackages"
DEMO_PASSWORD = "demo-exchange-2026"


@pytest.fixture
def old(tmp_path: Path) -> Iterator[Exchange]:
    shutil.copytree(OLD_STORE, tmp_path / "data")
    settings = make_settings(tmp_path / "data")
    prepare_store(settings)  # as `divex` and the WSGI entry do before opening
    exchange = open_exchange(settings)
    yield exchange
    exchange.close()


def stored_topics(exchange: Exchange) -> set[str]:
    with exchange.ledger.recorder.datastore.engine.connect() as db:  # type: ignore[attr-defined]
        return {t for (t,) in db.execute(text("SELECT DISTINCT topic FROM divex_events"))}


def test_every_stored_topic_names_a_class_that_still_writes_it(old: Exchange) -> None:
    topics = stored_topics(old)
    assert "cases.case:Case.Opened" in topics and "cases.tracing:TraceRequest.Sent" in topics
    for topic in topics:
        assert get_topic(resolve_topic(topic)) == topic


def test_the_old_log_verifies_with_its_checkpoints(old: Exchange) -> None:
    result = verify_log(old.ledger, old.checkpoints.all())
    assert result.ok, result.finding
    assert result.events_checked > 300 and result.checkpoints_checked >= 1


def test_an_old_case_opens_and_takes_a_new_event_that_verifies(old: Exchange) -> None:
    analyst = old.directory.authenticate("fra.analyst", DEMO_PASSWORD)
    old.follow()
    rows, _ = old.case_index.view.list_for("FRA", CaseFilter(owner="FRA"), 0, 5)
    case_id = rows[0].case_id
    view = old.cases.view(analyst, case_id)
    assert view.title and old.cases.titles(analyst, rows[:1]) == {case_id: view.title}
    old.cases.add_part(analyst, case_id, view.version, "note", {"text": "Checked again."})
    assert old.cases.view(analyst, case_id).notes[-1]["text"] == "Checked again."
    assert "cases.case:Case.PartAdded" in stored_topics(old)
    assert verify_log(old.ledger).ok


def test_a_new_process_resolves_the_old_topics_after_importing_the_wiring() -> None:
    # A projection worker only imports the wiring before it reads events of every kind.
    code = ("import infra.wiring\nfrom eventsourcing.utils import resolve_topic\n"
            "for t in ('cases.case:Case.Opened', 'cases.directory:User.Added', "
            "'cases.meetings:Meeting.Convened', 'cases.releases:Release', "
            "'cases.tracing:TraceRequest.Answered'):\n    print(resolve_topic(t).__qualname__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.split() == ["Case.Opened", "User.Added", "Meeting.Convened", "Release",
                                   "TraceRequest.Answered"]


def test_old_checkpoints_keep_verifying_beside_new_c2sp_ones(old: Exchange) -> None:
    """Kept, not re-issued: the states' first-format cosignatures cannot be made again (a
    cosignature/v1 states the largest tree seen at its time), so both formats verify."""
    legacy = old.checkpoints.latest()
    assert legacy.origin is None and {s.state for s in legacy.cosignatures} == \
        {"DEU", "FRA", "MEX"}
    analyst = old.directory.authenticate("fra.analyst", DEMO_PASSWORD)
    old.cases.open_case(analyst, {"title": "After the upgrade", "narrative": "n"})
    old.follow()
    new = old.checkpointer.record()
    assert new.origin == old.checkpointer.origin and new.size > legacy.size
    auditor = old.directory.authenticate("fra.auditor", DEMO_PASSWORD)
    # FRA's witness goes on from the last checkpoint it cosigned in the first format.
    assert old.witness.cosign(auditor) is not None
    checkpoints = old.checkpoints.all()
    assert [c.origin is None for c in checkpoints] == [True, False]
    result = verify_log(old.ledger, checkpoints)
    assert result.ok, result.finding
    assert result.cosignatures_checked == 4  # three of the first format, FRA's new one
