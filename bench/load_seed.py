"""Seeding for bench/load.py: states, load users and N cases of ~10 real events each.

Each case is built as `Cases.open_case`, `add_part`, `revise_summary`, `change_status` and
`share` build it: content validated by the same validators, sealed under a fresh case key
with the service's own helpers, wrapped per reader with HPKE, signed and hash-chained by the
`Case` aggregate. What is skipped is the reload of the case before each command (the seeding
analyst holds the case in memory) and one commit per command: ``BATCH`` cases commit in one
transaction with their wrapped keys. Several processes build cases in parallel; then the read
models are built from the log by the in-process follower (`catch_up`, as `divex projections
run --once` does), in parallel processes on PostgreSQL, and the checkpoints are signed.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cases.casework.case import Case
from cases.casework.content import validate_summary
from cases.kernel.sealing import seal_body, seal_title
from cases.kernel.viewer import Viewer
from crypto import CaseKey
from infra.demo import ACTORS, DEMO_STATES, FINDS, MAKERS, PLACES, POINTS
from infra.settings import Settings
from infra.wiring import open_exchange, prepare_store
from projections.follower import catch_up

PASSWORD = "load-bench-password-2026"
OWNERS = [code for code, status in DEMO_STATES if status == "state_party"]
ANALYSTS_PER_STATE = 7  # 42 analysts and 12 reviewers: one account per load user (50)
REVIEWERS_PER_STATE = 2
BATCH = 50  # cases per transaction
# Status paths, as in the demo (0 to 3 changes), each case takes one.
PATHS = [[], ["under_investigation"], ["under_investigation", "confirmed"], ["unfounded"],
         ["under_investigation", "confirmed", "closed"]]


def accounts(role: str) -> list[dict[str, str]]:
    """The load users of a role, interleaved by state (the first few cover every state)."""
    per_state = ANALYSTS_PER_STATE if role == "analyst" else REVIEWERS_PER_STATE
    return [{"username": f"{code.lower()}.{role}{n}", "state": code, "slot": str(n - 1)}
            for n in range(1, per_state + 1) for code in OWNERS]


def summary(number: int, rng: random.Random, owner: str, revised: bool = False) -> dict:
    """A case summary as the form sends it (also used by the load users' revisions)."""
    _, _, what, _ = FINDS[number % len(FINDS)]
    place = rng.choice(PLACES)
    exporter, transit = rng.sample([c for c in OWNERS if c != owner], 2)
    quantity = rng.randint(3, 400)
    return {"title": f"{quantity} {what} found at {place} (load case {number + 1})",
            "narrative": (f"During a routine inspection at {place}, officers found {quantity} "
                          f"{what}. Markings point to a transfer authorised to another end "
                          f"user.{' Revised after the second inspection.' if revised else ''}"),
            "point_of_diversion": POINTS[number % len(POINTS)],
            "concerned": {"exporter": exporter, "transit": transit, "discovery": owner}}


@dataclass
class Built:
    case: Case
    wrapped: dict[tuple[int, str], bytes]


def build_case(exchange: Any, analyst: Viewer, number: int) -> Built:
    """One case with ~10 events, in memory, as the commands would record them."""
    cases, rng = exchange.cases, random.Random(number)
    content = validate_summary(summary(number, rng, analyst.state))
    exporter, transit = content["concerned"]["exporter"], content["concerned"]["transit"]
    case_id = uuid.uuid4()
    key = CaseKey.generate(1)
    granted = cases.sealing.grant(case_id, [key], [analyst.state])
    wrapped = granted.wrapped
    case = Case.open(analyst.actor, case_id, granted.grants,
                     title=seal_title(key, case_id, 1, content["title"]),
                     body=seal_body(key, case_id, 1, Case.Opened, content))
    category, hs_code, _, calibre = FINDS[number % len(FINDS)]
    role, name = ACTORS[number % len(ACTORS)]
    parts = [("item", {"category": category, "hs_code": hs_code, "quantity": str(q),
                       "make": rng.choice(MAKERS), "model": f"M{rng.randint(10, 99)}",
                       "serial": f"DX-{rng.randint(100000, 999999)}", "calibre": calibre,
                       "year": str(rng.randint(1975, 2022)), "country_of_manufacture": exporter,
                       "marking_condition": rng.choice(["intact", "altered", "erased"])})
             for q in (rng.randint(3, 400), rng.randint(3, 40))]
    parts += [("actor", {"role": role, "name": name, "country": transit}),
              ("leg", {"origin": exporter, "destination": transit, "mode": "sea",
                       "date": f"20{rng.randint(15, 24)}-0{rng.randint(1, 9)}-15"}),
              ("note", {"text": "Serial numbers checked against the export licence."}),
              ("note", {"text": "Photographs of the markings filed with customs."})]
    for kind, data in parts:
        body = cases._seal(key, case, Case.PartAdded, cases._validated(kind, data))
        case.add_part(analyst.actor, kind, uuid.uuid4().hex[:12], body)
    if number % 2:
        revised = validate_summary(summary(number, random.Random(number), analyst.state, True))
        case.revise_content(analyst.actor,
                            seal_title(key, case_id, case.version + 1, revised["title"]),
                            cases._seal(key, case, Case.ContentRevised, revised))
    for status in PATHS[number % len(PATHS)]:
        case.change_status(analyst.actor, status,
                           cases._seal(key, case, Case.StatusChanged, {"reason": "Load seed."}))
    tier = number % 3  # a third each: national, bilateral, portal
    if tier:
        added = sorted(set(cases.audience(analyst, "portal" if tier == 2 else "bilateral",
                                          [exporter, transit])) - set(case.recipients))
        shared = cases.sealing.grant(case_id, [key], added)
        case.share(analyst.actor, "portal" if tier == 2 else "bilateral", added, shared.grants)
        wrapped.update(shared.wrapped)
    return Built(case, wrapped)


def seed_directory(exchange: Any) -> None:
    directory = exchange.directory
    directory.initialise("secretariat", PASSWORD, "Secretariat")
    secretariat = directory.authenticate("secretariat", PASSWORD)
    for code, status in DEMO_STATES:
        directory.create_state(secretariat, code, status, f"{code.lower()}.admin", PASSWORD)
    admins = {code: directory.authenticate(f"{code.lower()}.admin", PASSWORD)
              for code in OWNERS}
    for role in ("analyst", "reviewer"):
        for account in accounts(role):
            directory.add_user(admins[account["state"]], account["username"], PASSWORD, [role])


def _seed_slice(settings: Settings, first: int, total: int, step: int,
                done: Any) -> dict[str, list[tuple[int, str]]]:
    """Builds and saves cases first, first+step, ... below total; returns {owner: [(n, id)]}."""
    exchange = open_exchange(settings)
    ledger, keystore = exchange.ledger, exchange.keystore
    analysts = {code: exchange.directory.authenticate(f"{code.lower()}.analyst1", PASSWORD)
                for code in OWNERS}
    made: dict[str, list[tuple[int, str]]] = {code: [] for code in OWNERS}
    numbers = list(range(first, total, step))
    try:
        for start in range(0, len(numbers), BATCH):
            built = [(n, build_case(exchange, analysts[OWNERS[n % len(OWNERS)]], n))
                     for n in numbers[start:start + BATCH]]
            with ledger.transaction() as session:
                ledger.save(*(b.case for _, b in built))
                for _, b in built:
                    keystore.put_wrapped_keys(session, str(b.case.id), b.wrapped)
            for n, b in built:
                made[b.case.owner].append((n, str(b.case.id)))
            with done.get_lock():
                done.value += len(built)
    finally:
        exchange.close()
    return made


def _catch_up_some(settings: Settings, names: list[str], done: Any) -> int:
    exchange = open_exchange(settings)
    try:
        projections = [p for p in exchange.projections() if p.name in names]

        def step(count: int) -> None:
            with done.get_lock():
                done.value += count

        return catch_up(exchange.ledger, projections, step)
    finally:
        exchange.close()


def _watch(label: str, done: Any, total: int, results: list[Any]) -> float:
    """Prints progress until every async result is ready; returns the seconds taken."""
    began = time.perf_counter()
    while not all(r.ready() for r in results):
        time.sleep(2)
        elapsed = time.perf_counter() - began
        print(f"\r  {label}: {done.value}/{total} ({done.value / elapsed:.0f}/s)",
              end="", flush=True)
    for r in results:
        r.get()  # raises a worker's error here
    elapsed = time.perf_counter() - began
    print(f"\r  {label}: {total}/{total} in {elapsed:.1f} s ({total / elapsed:.0f}/s)"
          + " " * 10)
    return elapsed


def seed(settings: Settings, cases: int, processes: int, folder: Path,
         log: Callable[[str], None] = print) -> dict[str, Any]:
    """Seeds an empty exchange; writes ``cases.json`` (case ids by owner, accounts) and
    returns the seed figures (also written to ``seed.json``, which marks the seed complete)."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    prepare_store(settings)
    exchange = open_exchange(replace(settings))
    try:
        seed_directory(exchange)
    finally:
        exchange.close()
    timings["directory"] = time.perf_counter() - began
    log(f"  directory: {len(OWNERS) + 1} states, load users, in {timings['directory']:.1f} s")
    context = multiprocessing.get_context("spawn")
    done = context.Value("q", 0)
    with context.Pool(processes, initializer=_share, initargs=(done,)) as pool:
        results = [pool.apply_async(_seed_slice_shared, (settings, k, cases, processes))
                   for k in range(processes)]
        timings["cases"] = _watch("cases", done, cases, results)
        owners: dict[str, list[tuple[int, str]]] = {code: [] for code in OWNERS}
        for result in results:
            for code, made in result.get().items():
                owners[code] += made
    exchange = open_exchange(settings)
    events = exchange.ledger.recorder.max_notification_id() or 0
    names = [p.name for p in exchange.projections()]
    exchange.close()
    log(f"  {events} events stored ({events / timings['cases']:.0f} events/s)")
    done = context.Value("q", 0)
    # SQLite has one writer: parallel followers would time out on its lock ("database is
    # locked"), so there one follower builds every read model, reading each event once. On
    # PostgreSQL the read models are shared out among the processes.
    parallel = 1 if settings.database_url.startswith("sqlite") else min(len(names), processes)
    groups = [names[k::parallel] for k in range(parallel)]
    with context.Pool(parallel, initializer=_share, initargs=(done,)) as pool:
        results = [pool.apply_async(_catch_up_shared, (settings, group)) for group in groups]
        timings["projections"] = _watch(f"read models ({', '.join(names)})", done,
                                        events * parallel, results)
    started = time.perf_counter()
    exchange = open_exchange(settings)
    try:
        exchange.follow()
        exchange.checkpointer.record()
    finally:
        exchange.close()
    timings["checkpoint"] = time.perf_counter() - started
    log(f"  checkpoints of {events} events signed in {timings['checkpoint']:.1f} s")
    total = time.perf_counter() - began
    (folder / "cases.json").write_text(json.dumps({
        "owners": {code: [cid for _, cid in sorted(made)] for code, made in owners.items()},
        "analysts": accounts("analyst"), "reviewers": accounts("reviewer"),
        "password": PASSWORD, "states": OWNERS}))
    figures = {"cases": cases, "events": events, "processes": processes,
               "seconds": {k: round(v, 1) for k, v in timings.items()},
               "total_seconds": round(total, 1), "events_per_second": round(events / total)}
    (folder / "seed.json").write_text(json.dumps(figures, indent=1))
    return figures


# Pool workers get the shared counter once, at start (a Value cannot travel as an argument).
_done: Any = None


def _share(done: Any) -> None:
    global _done
    _done = done


def _seed_slice_shared(settings: Settings, first: int, total: int, step: int) -> dict:
    return _seed_slice(settings, first, total, step, _done)


def _catch_up_shared(settings: Settings, names: list[str]) -> int:
    return _catch_up_some(settings, names, _done)
