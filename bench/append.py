"""Benchmark (run by hand, not a test): the cost of appending one divex event.

Appends N events carrying a ~1 KiB evidence note through divex (sealed with AES-256-GCM under
the case key, signed with Ed25519, hash-chained) and the same text as a plain `eventsourcing`
aggregate event, both on eventsourcing-sqlalchemy over their own SQLite file, and prints
events/s for each variant plus the ratio of divex cost to plain cost.

    .venv/bin/python bench/append.py [-n 2000] [--repeat 3] [--profile]

Variants (one fresh aggregate per run, runs round-robin, best run of each kept):

- divex crypto+save: `Case.add_part` on an in-memory case (seal, sign, hash) + `Ledger.save`.
- plain save: `notebook.add_note(text)` + `app.save(notebook)` on a plain `Application`.
- divex full command: `Cases.add_part`, i.e. reload the case from the store, unwrap the case
  key, validate, seal, sign, save in a transaction.
- plain with reload: `app.repository.get(id)` + append + save.
- divex crypto only: seal + sign + hash on an in-memory case, no save (where the time goes).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from cases.casework.case import Case
from cases.kernel.sealing import body_context
from cases.kernel.viewer import Viewer
from crypto import CaseKey, unwrap_case_key
from infra.settings import Settings, sqlite_url
from infra.wiring import Exchange, open_exchange, prepare_store

PASSWORD = "correct horse battery staple"
FAST_KDF = {"kdf_memory_kib": 8, "kdf_iterations": 1, "kdf_lanes": 1}  # not in the timed loops
TARGET = 1.5

_SENTENCE = ("On 14 March the inspection team found forty rifles with erased serial numbers in a "
             "cache near the border crossing; the crates carried end-user markings of a "
             "licensed importer and shipping labels from a freight forwarder. ")


def note_text(size: int = 1024) -> str:
    """A realistic evidence note of exactly ``size`` characters (ASCII, so ~``size`` bytes)."""
    text = _SENTENCE * (size // len(_SENTENCE) + 1)
    return text[:size - 1].rstrip() + "."


TEXT = note_text()


# Timing


@dataclass
class Clock:
    """Times the loop of one variant; with a profiler, profiles only that loop."""

    profiler: cProfile.Profile | None = None
    elapsed: float = 0.0

    @contextmanager
    def loop(self) -> Iterator[None]:
        if self.profiler is not None:
            self.profiler.enable()
        start = time.perf_counter()
        try:
            yield
        finally:
            self.elapsed = time.perf_counter() - start
            if self.profiler is not None:
                self.profiler.disable()


Variant = Callable[[int, Clock], None]


# Plain eventsourcing


class Notebook(Aggregate):
    """A plain aggregate with one event carrying the note text as a str."""

    @event("Created")
    def __init__(self) -> None:
        self.count = 0

    @event("NoteAdded")
    def add_note(self, text: str) -> None:
        self.count += 1


def open_plain(data_dir: Path) -> Application[UUID]:
    return Application(env={
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": f"sqlite:///{(data_dir / 'plain.sqlite').resolve()}",
        "CREATE_TABLE": "y",
    })


def plain_save(app: Application[UUID], n: int, clock: Clock) -> None:
    notebook = Notebook()
    app.save(notebook)
    with clock.loop():
        for _ in range(n):
            notebook.add_note(TEXT)
            app.save(notebook)


def plain_reload(app: Application[UUID], n: int, clock: Clock) -> None:
    notebook = Notebook()
    app.save(notebook)
    with clock.loop():
        for _ in range(n):
            loaded: Notebook = app.repository.get(notebook.id)
            loaded.add_note(TEXT)
            app.save(loaded)


# divex


@dataclass
class Divex:
    exchange: Exchange
    analyst: Viewer


def open_divex(data_dir: Path) -> Divex:
    settings = Settings(data_dir=data_dir, database_url=sqlite_url(data_dir),
                        secret_key="bench-secret", **FAST_KDF)
    prepare_store(settings)
    exchange = open_exchange(settings)
    directory = exchange.directory
    directory.initialise("secretariat", PASSWORD)
    secretariat = directory.authenticate("secretariat", PASSWORD)
    directory.create_state(secretariat, "FRA", "state_party", "fra.admin", PASSWORD)
    admin = directory.authenticate("fra.admin", PASSWORD)
    directory.add_user(admin, "fra.analyst", PASSWORD, ["analyst"])
    return Divex(exchange, directory.authenticate("fra.analyst", PASSWORD))


def open_case(divex: Divex) -> UUID:
    return divex.exchange.cases.open_case(divex.analyst, {
        "title": "Rifles found in a cache near the border",
        "narrative": "Forty rifles with erased serials.",
        "point_of_diversion": "at_or_after_delivery",
        "concerned": {"exporter": "DEU", "discovery": "MLI"},
    })


def case_key(divex: Divex, case: Case) -> CaseKey:
    """The case's current key, unwrapped with the analyst's state keyring."""
    ledger, viewer = divex.exchange.ledger, divex.analyst
    with ledger.transaction() as session:
        wrapped = divex.exchange.keystore.wrapped_keys(session, str(case.id), viewer.state)
    return unwrap_case_key(wrapped[case.key_version], case_id=str(case.id),
                           recipient=viewer.state, keyring=viewer.keyring)


def append_note(divex: Divex, case: Case, key: CaseKey) -> None:
    """Seals the note as `Cases.add_part` does and records it on the in-memory case."""
    body = key.seal(json.dumps({"text": TEXT}).encode(),
                    body_context(case.id, case.version + 1, Case.PartAdded))
    case.add_part(divex.analyst.actor, "note", uuid.uuid4().hex[:12], body)


def divex_crypto_save(divex: Divex, n: int, clock: Clock) -> None:
    ledger = divex.exchange.ledger
    case: Case = ledger.repository.get(open_case(divex))
    key = case_key(divex, case)
    with clock.loop():
        for _ in range(n):
            append_note(divex, case, key)
            ledger.save(case)
    check_readable(divex, case.id, n)


def divex_crypto_only(divex: Divex, n: int, clock: Clock) -> None:
    case: Case = divex.exchange.ledger.repository.get(open_case(divex))
    key = case_key(divex, case)
    with clock.loop():
        for _ in range(n):
            append_note(divex, case, key)
            case.collect_events()  # drop pending events, as a save would, without storing them


def divex_full_command(divex: Divex, n: int, clock: Clock) -> None:
    cases, viewer = divex.exchange.cases, divex.analyst
    case_id = open_case(divex)
    with clock.loop():
        for expected_version in range(1, n + 1):
            cases.add_part(viewer, case_id, expected_version, "note", {"text": TEXT})
    check_readable(divex, case_id, n)


def check_readable(divex: Divex, case_id: UUID, n: int) -> None:
    """Outside the timing: every note opens, so the bench stored real divex events."""
    view = divex.exchange.cases.view(divex.analyst, case_id)
    texts = {note.get("text") for note in view.notes}
    if view.version != n + 1 or len(view.notes) != n or view.unreadable_events or texts != {TEXT}:
        sys.exit(f"bench: case {case_id} reads back wrong (version {view.version}, "
                 f"{len(view.notes)} notes, {view.unreadable_events} unreadable)")


# Running


def best_of(variants: dict[str, Variant], n: int, repeat: int) -> dict[str, float]:
    """The fastest of ``repeat`` runs of each variant, in seconds, each on a fresh aggregate.

    Runs go round-robin (every variant once, then again) so that slow spells of the disk
    (SQLite commits are fsync-bound) fall on all variants alike.
    """
    times: dict[str, list[float]] = {label: [] for label in variants}
    for round_ in range(1, repeat + 1):
        for label, variant in variants.items():
            print(f"round {round_}/{repeat}: {label} ...", file=sys.stderr, flush=True)
            clock = Clock()
            variant(n, clock)
            times[label].append(clock.elapsed)
    return {label: min(runs) for label, runs in times.items()}


def profile(label: str, variant: Variant, n: int) -> None:
    print(f"\n--- profile: {label}, n={n}, top 15 by cumulative time ---")
    profiler = cProfile.Profile()
    variant(n, Clock(profiler))
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(15)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="events per run (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant, best kept")
    parser.add_argument("--profile", action="store_true",
                        help="then cProfile divex crypto+save, plain save and the divex full "
                             "command (top 15 by cumulative time)")
    args = parser.parse_args(argv)
    n, repeat = args.n, args.repeat

    print(f"python {platform.python_version()}, eventsourcing {version('eventsourcing')}, "
          f"eventsourcing-sqlalchemy {version('eventsourcing-sqlalchemy')}, "
          f"cryptography {version('cryptography')}, sqlalchemy {version('sqlalchemy')}")
    print(f"{platform.platform()}; n={n}, repeat={repeat} (best kept), "
          f"note {len(TEXT)} chars; SQLite files in temp dirs")

    with tempfile.TemporaryDirectory(prefix="divex-bench-") as divex_dir, \
            tempfile.TemporaryDirectory(prefix="plain-bench-") as plain_dir:
        divex = open_divex(Path(divex_dir))
        plain = open_plain(Path(plain_dir))
        variants: dict[str, Variant] = {
            "divex crypto+save": lambda k, c: divex_crypto_save(divex, k, c),
            "plain save": lambda k, c: plain_save(plain, k, c),
            "divex full command (reload)": lambda k, c: divex_full_command(divex, k, c),
            "plain with reload": lambda k, c: plain_reload(plain, k, c),
            "divex crypto only (no save)": lambda k, c: divex_crypto_only(divex, k, c),
        }
        try:
            timings = best_of(variants, n, repeat)
            print()
            print(f"{'variant':<30}{'events/s':>10}{'us/event':>10}")
            for label, seconds in timings.items():
                print(f"{label:<30}{n / seconds:>10.0f}{seconds / n * 1e6:>10.0f}")
            print()
            ratio = timings["divex crypto+save"] / timings["plain save"]
            full = timings["divex full command (reload)"] / timings["plain with reload"]
            print(f"ratio: {ratio:.2f}")
            print(f"ratio (full command with reload): {full:.2f}")
            print(f"target: ratio <= {TARGET:.2f} -> {'met' if ratio <= TARGET else 'NOT met'}")
            if args.profile:
                for label in ("divex crypto+save", "plain save", "divex full command (reload)"):
                    profile(label, variants[label], n)
        finally:
            divex.exchange.close()
            plain.close()


if __name__ == "__main__":
    main()
