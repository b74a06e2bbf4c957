"""Benchmark (run by hand, not a test): the web app under 50 concurrent users, per backend.

Seeds N cases (~10 signed, sealed events each; bench/load_seed.py says how) on SQLite and on
PostgreSQL, builds the read models from the log, serves `infra.wsgi:app` with gunicorn (2
workers), and drives locust users (bench/load_users.py) through the real /login form and a
mix of list, filtered list, search, case page, edits and sharing for N seconds. Before
serving, every state's search index is built and the first search after a portal share of
1,000 cases is measured (bench/load_search.py). Prints p50/p95/p99,
requests and errors per route, the baseline route (GET /login, same run) as ratios, the RSS of
each gunicorn worker at the end, and whether p95 < 100 ms held for the list, search and
case pages.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/load.py [--cases 100000] [--seconds 60] [--users 50]
        [--backend both|sqlite|postgres] [--data-dir load-data] [--seed-processes 2]
        [--workers 2] [--threads 1]

The seed is kept in ``--data-dir`` (SQLite files; the name of the PostgreSQL database,
``divex_load_<cases>`` on DIVEX_TEST_POSTGRES_URL's server): a second run with the same
``--cases`` skips seeding. Each run adds edits to the stored cases. The server runs with
``DIVEX_LOGIN_RATE_LIMIT=100000 per minute`` (all users sign in from 127.0.0.1) and
``DIVEX_SECURE_COOKIES=0`` (plain HTTP on this machine); everything else is the default.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_search import prepare_search
from load_seed import OWNERS, PASSWORD, seed

from infra.settings import Settings, sqlite_url

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("DIVEX_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
GOAL_MS = 100
GOAL_ROUTES = ("list", "list filtered", "case page", "search")
BASELINE = "baseline GET /login"


def settings_for(backend: str, folder: Path, cases: int) -> Settings:
    url = sqlite_url(folder) if backend == "sqlite" else postgres_url(cases)
    return Settings(data_dir=folder, database_url=url, secret_key="load-bench-seed")


def postgres_url(cases: int) -> str:
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/divex_load_{cases}"


def recreate_postgres(cases: int) -> None:
    import psycopg

    name = f"divex_load_{cases}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def seeded(backend: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The seed figures, seeding first unless ``folder`` holds a complete seed of that size."""
    marker = folder / "seed.json"
    if marker.exists() and json.loads(marker.read_text())["cases"] == args.cases:
        figures = json.loads(marker.read_text())
        print(f"{backend}: reusing the seed in {folder} ({figures['events']} events)")
        return figures
    print(f"{backend}: seeding {args.cases} cases with {args.seed_processes} processes")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if backend == "postgres":
        recreate_postgres(args.cases)
    figures = seed(settings_for(backend, folder, args.cases), args.cases, args.seed_processes,
                   folder)
    if backend == "postgres":
        vacuum_postgres(args.cases)
    return figures


def vacuum_postgres(cases: int, tables: tuple[str, ...] = ()) -> None:
    """Tidies the seeded database as after any bulk load. The read-model build rewrites each
    case's index and reader rows about ten times: the reader rows' four indexes grew to
    696 MB for 333k rows, and PostgreSQL counted a state's cases with a sequential scan
    (65 ms) instead of the index (20 ms). VACUUM does not shrink an index; REINDEX does. The
    PostgreSQL of this project's machines also runs with autovacuum off, so ANALYZE too.
    ``tables``: only these (the search index after its bulk build: without it, PostgreSQL
    read every token row's table page and planned with no statistics)."""
    import psycopg

    began = time.perf_counter()
    url = postgres_url(cases).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        autovacuum = connection.execute("SHOW autovacuum").fetchone()[0]
        if tables:  # only these: their rows' visibility (index-only scans) and statistics
            for table in tables:
                connection.execute(f"VACUUM (ANALYZE) {table}")
        else:
            connection.execute("REINDEX TABLE case_readers")
            connection.execute("REINDEX TABLE case_index")
            connection.execute("VACUUM (ANALYZE)")
    done = f"VACUUM (ANALYZE) of {', '.join(tables)}" if tables else \
        "REINDEX of the case index, VACUUM (ANALYZE)"
    print(f"  {done} in {time.perf_counter() - began:.1f} s (the server's autovacuum is "
          f"{autovacuum})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(settings: Settings, port: int, workers: int, threads: int,
          log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DIVEX_DATA_DIR": str(settings.data_dir),
           "DIVEX_DATABASE_URL": settings.database_url,
           "DIVEX_SECRET_KEY": secrets.token_hex(32), "DIVEX_SECURE_COOKIES": "0",
           "DIVEX_LOGIN_RATE_LIMIT": "100000 per minute"}
    with log.open("ab") as out:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "infra.wsgi:app", "--workers", str(workers),
             "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--timeout", "120"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=BENCH.parent)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
        if server.poll() is not None:
            break
    server.kill()
    sys.exit(f"gunicorn did not start; see {log}")


def worker_cpu(master: int) -> float:
    """CPU seconds (user + system) used so far by the gunicorn workers together."""
    try:
        import psutil
    except ImportError:
        return 0.0
    return sum(sum(p.cpu_times()[:2]) for p in psutil.Process(master).children())


def worker_rss(master: int) -> list[float]:
    """RSS of each gunicorn worker (the master's children), in MiB."""
    try:
        import psutil

        return [p.memory_info().rss / 2**20 for p in psutil.Process(master).children()]
    except ImportError:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                    status = (stat.parent / "status").read_text()
                    kib = next(line for line in status.splitlines() if line.startswith("VmRSS"))
                    found.append(int(kib.split()[1]) / 1024)
            except (OSError, ValueError, StopIteration):
                continue
        return found


def drive(port: int, folder: Path, args: argparse.Namespace, work: Path) -> list[dict]:
    """Runs locust headless; returns its per-route rows (stats CSV). The users' file restarts
    the statistics a warm-up after all have signed in and stops the run ``--seconds`` later
    (``-t`` is only a bound)."""
    prefix = work / "locust"
    env = {**os.environ, "DIVEX_LOAD_CASES": str(folder / "cases.json"),
           "DIVEX_LOAD_SECONDS": str(args.seconds), "DIVEX_LOAD_THINK": args.think}
    command = [str(BIN / "locust"), "-f", str(BENCH / "load_users.py"), "--headless",
               "-u", str(args.users), "-r", "10", "-t", f"{args.seconds + 300}s",
               "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix),
               "--only-summary", "--loglevel", "WARNING"]
    with (work / "locust.log").open("ab") as out:
        subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    with open(f"{prefix}_stats.csv", newline="") as file:
        return [row for row in csv.DictReader(file)
                if row["Name"] != "Aggregated" and int(row["Request Count"])]


def report(backend: str, figures: dict, rows: list[dict], machine: dict[str, Any],
           ) -> dict[str, float]:
    """Prints the table; returns the p95 of each route (ms)."""
    by_name = {row["Name"]: row for row in rows}
    base = float(by_name.get(BASELINE, {}).get("95%") or 0) or 1.0
    print(f"\n{backend}: {figures['cases']} cases, {figures['events']} events at seed "
          f"(seeded in {figures['total_seconds']} s, {figures['events_per_second']} events/s)")
    print(f"  {'route':<26}{'reqs':>7}{'errors':>7}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
          f"{'p95/base':>10}")
    p95s = {}
    for row in sorted(rows, key=lambda r: (r["Name"] not in GOAL_ROUTES, r["Name"])):
        p95 = float(row["95%"]) if row["95%"] not in ("", "N/A") else 0.0
        p95s[row["Name"]] = p95
        print(f"  {row['Name']:<26}{row['Request Count']:>7}{row['Failure Count']:>7}"
              f"{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}{p95 / base:>10.1f}")
    errors = sum(int(r["Failure Count"]) for r in rows)
    requests = sum(int(r["Request Count"]) for r in rows)
    print(f"  errors: {errors}; gunicorn worker RSS at the end: "
          + ", ".join(f"{mib:.0f} MiB" for mib in machine["rss"]))
    print(f"  gunicorn workers used {machine['cpu']:.0f} CPU s (the sign-ins, then {requests} "
          "requests measured); load average before/after: {:.1f} / {:.1f} on {} cores "
          "(shared machine)".format(*machine["load"], os.cpu_count()))
    p95s["__errors__"] = errors
    return p95s


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, float]:
    folder = (args.data_dir / f"{backend}-{args.cases}").resolve()
    figures = seeded(backend, folder, args)
    prepare_search(settings_for(backend, folder, args.cases), OWNERS, PASSWORD)
    if backend == "postgres":  # the search index was just written in bulk
        vacuum_postgres(args.cases, ("divex_search_tokens", "divex_search_cases",
                                     "divex_search_token_sets"))
    settings = settings_for(backend, folder, args.cases)  # the server signs every 1000
    work = folder / f"run-{time.strftime('%Y%m%d-%H%M%S')}"
    work.mkdir()
    port = free_port()
    server = serve(settings, port, args.workers, args.threads, work / "gunicorn.log")
    load = os.getloadavg()[0]
    try:
        rows = drive(port, folder, args, work)
        machine = {"rss": worker_rss(server.pid), "cpu": worker_cpu(server.pid),
                   "load": (load, os.getloadavg()[0])}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    failures = Path(f"{work / 'locust'}_failures.csv")
    if failures.exists() and len(failures.read_text().splitlines()) > 1:
        print(f"  failures ({failures}):\n    "
              + "\n    ".join(failures.read_text().splitlines()[1:6]))
    return report(backend, figures, rows, machine)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100000)
    parser.add_argument("--seconds", type=int, default=60, help="measured load time")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--think", default="2,8",
                        help="MIN,MAX seconds a user pauses between tasks (default 2,8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (above 1, gunicorn's gthread workers)")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--data-dir", type=Path, default=Path("load-data"),
                        help="where seeds are kept between runs")
    parser.add_argument("--seed-processes", type=int, default=2)
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    results = {backend: run_backend(backend, args) for backend in backends}
    verdicts = []
    for backend, p95s in results.items():
        worst = max(p95s.get(route, float("inf")) for route in GOAL_ROUTES)
        verdicts.append(f"{backend} worst p95 {worst:.0f} ms, {p95s['__errors__']:.0f} errors")
    met = all(max(p.get(r, float("inf")) for r in GOAL_ROUTES) < GOAL_MS and not p["__errors__"]
              for p in results.values())
    print(f"\ngoal p95 < {GOAL_MS} ms for list, search and case pages, zero errors: "
          f"{'met' if met else 'NOT met'} ({'; '.join(verdicts)})")


if __name__ == "__main__":
    main()
