"""Benchmark (run by hand, not a test): how fast `divex audit verify` walks the log.

Builds a log of N events sealed and signed like real ones (cases with ~1 KiB evidence notes,
by analysts of several states, with a key rotation in the middle), signs checkpoints, then
times `verify_log` over it and, in the same run, the raw Ed25519 verify rate of `cryptography`
on this machine over messages of the same size. Prints events/s with one process and with one per
CPU (as `divex audit verify` runs by default), the raw rate of one core, and
`ratio: X.XX` (verify rate with every CPU / raw rate of one core; goal >= 0.7).

Then times time travel of one case with E events: loading the case aggregate at versions
E/100, E/2 and E, with and without snapshots, and the full decrypted view at those versions.

    .venv/bin/python bench/verify.py [-n 100000] [--case-events 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cases.audit.log import stored_records, verify_log
from cases.casework.case import Case
from cases.kernel.sealing import body_context
from crypto import CaseKey, canonical_json
from infra.settings import Settings, sqlite_url
from infra.wiring import Exchange, open_exchange, prepare_store

PASSWORD = "correct horse battery staple"
FAST_KDF = {"kdf_memory_kib": 8, "kdf_iterations": 1, "kdf_lanes": 1}
TARGET = 0.7
STATES = ("FRA", "DEU", "MEX", "GHA", "NZL")
NOTE = ("The inspection team found forty rifles with erased serial numbers in a cache near the "
        "border crossing; the crates carried end-user markings of a licensed importer. ") * 7
EVENTS_PER_CASE = 20
BATCH = 50  # cases saved per transaction


def open_bench_exchange(folder: Path, every: int) -> Exchange:
    settings = Settings(data_dir=folder, database_url=sqlite_url(folder), secret_key="bench",
                        checkpoint_every=every, **FAST_KDF)
    prepare_store(settings)
    return open_exchange(settings)


def seed_viewers(exchange: Exchange) -> dict:
    directory = exchange.directory
    directory.initialise("secretariat", PASSWORD)
    secretariat = directory.authenticate("secretariat", PASSWORD)
    viewers = {}
    for code in STATES:
        directory.create_state(secretariat, code, "state_party", f"{code.lower()}.admin",
                               PASSWORD)
        admin = directory.authenticate(f"{code.lower()}.admin", PASSWORD)
        directory.add_user(admin, f"{code.lower()}.analyst", PASSWORD, ["analyst"])
        viewers[code] = directory.authenticate(f"{code.lower()}.analyst", PASSWORD)
    return viewers


def build_log(exchange: Exchange, events: int) -> None:
    """Cases of EVENTS_PER_CASE events each, sealed and signed as `Cases` does; a key
    rotation of one state halfway, so verification walks a real key history."""
    viewers = seed_viewers(exchange)
    done, rotated, batch = 0, False, []
    note = canonical_json({"text": NOTE})
    while done < events:
        code = STATES[(done // EVENTS_PER_CASE) % len(STATES)]
        if not rotated and done >= events // 2:
            admin = exchange.directory.authenticate(f"{code.lower()}.admin", PASSWORD)
            exchange.directory.rotate_state_keys(admin)
            viewers[code] = exchange.directory.authenticate(f"{code.lower()}.analyst", PASSWORD)
            rotated = True
        actor, key, case_id = viewers[code].actor, CaseKey.generate(1), uuid.uuid4()
        grants = exchange.cases.sealing.grant(case_id, [key], [code]).grants
        case = Case.open(actor, case_id, grants, title="1:" + "00" * 40,
                         body=key.seal(note, body_context(case_id, 1, Case.Opened)))
        for part in range(min(EVENTS_PER_CASE, events - done) - 1):
            case.add_part(actor, "note", f"n{part}",
                          key.seal(note, body_context(case_id, case.version + 1,
                                                      Case.PartAdded)))
        batch.append(case)
        done += case.version
        if len(batch) == BATCH:
            exchange.ledger.save_all(*batch)
            batch = []
    if batch:
        exchange.ledger.save_all(*batch)


def raw_verify_rate(samples: int, message_size: int) -> float:
    """Ed25519 verifications per second straight from `cryptography`."""
    keys = [Ed25519PrivateKey.generate() for _ in range(8)]
    messages = [os.urandom(message_size) for _ in range(64)]
    signed = [(k.public_key(), m, k.sign(m)) for k in keys for m in messages]
    started = time.perf_counter()
    for index in range(samples):
        public, message, signature = signed[index % len(signed)]
        public.verify(signature, message)
    return samples / (time.perf_counter() - started)


def time_travel(folder: Path, case_events: int) -> None:
    print(f"\nTime travel of one case with {case_events} events")
    for snapshots in (False, True):
        exchange = open_bench_exchange(folder / f"travel-{snapshots}", 10**9)
        if not snapshots:
            exchange.ledger.snapshotting_intervals = {}
        viewer = seed_viewers(exchange)["FRA"]
        case_id = exchange.cases.open_case(viewer, {"title": "Long case", "narrative": NOTE})
        for version in range(1, case_events):
            exchange.cases.add_part(viewer, case_id, version, "note", {"text": NOTE[:200]})
        for version in (max(1, case_events // 100), case_events // 2, case_events):
            load, view = travel_times(exchange, viewer, case_id, version)
            print(f"  snapshots {'on ' if snapshots else 'off'} version {version:>5}: "
                  f"load aggregate {load * 1000:8.2f} ms   full decrypted view "
                  f"{view * 1000:8.2f} ms")
        exchange.close()


def travel_times(exchange: Exchange, viewer, case_id, version: int) -> tuple[float, float]:
    """Best-of-5 seconds to load the aggregate at ``version``, and to build its view."""
    load = _best(lambda: exchange.ledger.repository.get(case_id, version=version))
    view = _best(lambda: exchange.cases.view(viewer, case_id, version=version))
    return load, view


def _best(run, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="events in the log")
    parser.add_argument("--case-events", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        exchange = open_bench_exchange(folder / "log", 1000)
        started = time.perf_counter()
        build_log(exchange, args.n)
        exchange.follow()
        total = exchange.ledger.recorder.max_notification_id() or 0
        print(f"built {total} events in {time.perf_counter() - started:.0f} s; "
              f"{len(exchange.checkpoints.all())} checkpoints")
        sizes = [len(canonical_json({"header": r.header, "body_sha256": r.body_sha256}))
                 for _, r in zip(range(200), stored_records(exchange.ledger), strict=False)]
        raw = raw_verify_rate(20_000, int(statistics.mean(sizes)))
        print(f"raw Ed25519 verify ({int(statistics.mean(sizes))}-byte messages, one core): "
              f"{raw:.0f} /s")
        for workers in sorted({1, os.cpu_count() or 1}):
            started = time.perf_counter()
            result = verify_log(exchange.ledger, exchange.checkpoints.all(), workers=workers)
            elapsed = time.perf_counter() - started
            assert result.ok, result.finding
            rate = result.events_checked / elapsed
            print(f"verify with {workers} process(es): {result.events_checked} events, "
                  f"{result.checkpoints_checked} checkpoints in {elapsed:.1f} s = "
                  f"{rate:.0f} events/s")
        print(f"ratio: {rate / raw:.2f}   (goal >= {TARGET}; with {workers} processes)")
        exchange.close()
        time_travel(folder, args.case_events)


if __name__ == "__main__":
    main()
