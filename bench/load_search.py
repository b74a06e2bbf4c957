"""The search index for bench/load.py: built for every state before the load, and the first
search after a portal share of many cases, measured.

The seed writes events only; a state's blind index can only be written with its keyring, in
a request of one of its users (`Exchange.index_for`). Before serving, one analyst per state
indexes what its state reads, in large batches (the bulk rate). Then FRA's analyst shares
``SHARED`` of its national cases on the portal, and DEU's analyst searches as its list page
would: the first request indexes one bounded batch (25 cases or 50 ms); the figures are that
request's time and rate, the requests it takes to index them all, and the index size per case.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from cases.search.index import search_cases, search_tokens
from cases.search.terms import read_query
from infra.wiring import open_exchange
from projections.case_index import CaseFilter

SHARED = 1000
BULK = 500  # cases per call when the bench builds the index before the load


def prepare_search(settings: Any, states: list[str], password: str,
                   log: Callable[[str], None] = print) -> dict[str, Any]:
    """Indexes every state's readable cases, then measures the first search after a portal
    share; returns the figures."""
    exchange = open_exchange(settings)
    figures: dict[str, Any] = {}
    try:
        exchange.follow()
        viewers = {code: exchange.directory.authenticate(f"{code.lower()}.analyst1", password)
                   for code in states}
        began, done = time.perf_counter(), 0
        for viewer in viewers.values():
            done += index_everything(exchange, viewer)
        seconds = time.perf_counter() - began
        if done:
            figures["bulk"] = {"cases": done, "seconds": round(seconds, 1),
                               "cases_per_second": round(done / seconds)}
            log(f"  search index built: {done} (state, case) pairs in {seconds:.1f} s "
                f"({done / seconds:.0f} cases/s)")
        figures["size"] = index_size(exchange)
        log("  index size: {tokens_per_case:.0f} tokens per indexed case, "
            "{bytes_per_case:.0f} bytes per case (tables and indexes)".format(**figures["size"]))
        figures["portal_share"] = first_search_after_share(exchange, viewers["FRA"],
                                                           viewers["DEU"], log)
    finally:
        exchange.close()
    return figures


def index_everything(exchange: Any, viewer: Any) -> int:
    done = 0
    while True:
        waiting, _ = exchange.case_search_view.unindexed(
            viewer.state, viewer.keyring.current.version, BULK)
        if not waiting:
            return done
        done += exchange.search.index(viewer, waiting)


def index_size(exchange: Any) -> dict[str, float]:
    """Token rows per indexed case, and the bytes the two tables and their indexes take on
    disk per indexed case (PostgreSQL: their relation sizes; SQLite: dbstat if compiled in,
    else the rows' raw size)."""
    with exchange.ledger.transaction() as session:
        tokens = session.execute(select(func.count()).select_from(search_tokens)).scalar()
        indexed = session.execute(select(func.count()).select_from(search_cases)).scalar()
        if exchange.settings.is_postgres:
            size = session.execute(text(
                "SELECT pg_total_relation_size('divex_search_tokens')"
                " + pg_total_relation_size('divex_search_cases')"
                " + pg_total_relation_size('divex_search_token_sets')")).scalar()
        else:
            try:
                size = session.execute(text(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE '%search_tokens%'"
                    " OR name LIKE '%search_cases%'")).scalar()
            except OperationalError:  # SQLite built without dbstat
                size = tokens * (3 + 4 + 16 + 36)
    indexed = max(indexed or 0, 1)
    return {"tokens_per_case": (tokens or 0) / indexed, "bytes_per_case": (size or 0) / indexed}


def first_search_after_share(exchange: Any, owner: Any, reader: Any,
                             log: Callable[[str], None]) -> dict[str, Any]:
    """Shares SHARED of the owner's national cases on the portal, then times the reader's
    first search request (a bounded batch indexed, then the search) and the requests it
    takes until all of them are indexed."""
    rows, _ = exchange.case_index.view.list_for(owner.state, CaseFilter(tier="national"),
                                                0, SHARED)
    began = time.perf_counter()
    for row in rows:
        exchange.cases.share(owner, UUID(row.case_id), row.version, "portal")
    shared = time.perf_counter() - began
    exchange.follow()
    _, before = exchange.case_search_view.unindexed(reader.state,
                                                    reader.keyring.current.version, 1)
    began = time.perf_counter()
    indexed_first = before - exchange.index_for(reader)
    exchange.case_search(reader, read_query("rifles"), CaseFilter())
    first = time.perf_counter() - began
    requests, began = 1, time.perf_counter()
    while exchange.index_for(reader):
        requests += 1
    rest = time.perf_counter() - began
    figures = {"shared": len(rows), "share_seconds": round(shared, 1),
               "first_request_ms": round(first * 1000), "indexed_in_first": indexed_first,
               "first_rate_cases_per_second": round(indexed_first / first) if first else 0,
               "requests_to_index_all": requests,
               "rate_cases_per_second": round(len(rows) / (first + rest))}
    log("  portal share of {shared} cases ({share_seconds} s); DEU's first search: "
        "{first_request_ms} ms, {indexed_in_first} cases indexed in it "
        "({first_rate_cases_per_second} cases/s); all indexed after {requests_to_index_all} "
        "requests ({rate_cases_per_second} cases/s)".format(**figures))
    return figures
