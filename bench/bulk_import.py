"""Bulk import of a CSV file on SQLite (run by hand; issue 23 item 10's goal: 10,000 rows
in under 60 s).

`.venv/bin/python bench/bulk_import.py [--rows 10000] [--items-per-case 2]` makes a fresh
SQLite store with one State Party, writes a CSV of N item rows (random but believable cases,
several items each), and times the check (`read_csv`), the import (sealing, signing and the one
transaction) and the read models catching up. As a baseline measured in the same run, it logs
`--baseline` cases one by one through `Cases.open_case` and prints the ratio per case.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import tempfile
import time
from pathlib import Path

from cases.casework.bulk_import import COLUMNS, read_csv
from infra.settings import Settings
from infra.wiring import open_exchange, prepare_store

PASSWORD = "bench-password-2026"
MAKERS = ["Norvik", "Castellan", "Ardent", "Meridian", "Sabre Arms"]
PLACES = ["Kidira", "Rosso", "Gao", "Tessalit", "Bamako", "Kayes"]


def write_csv(rows: int, per_case: int, rng: random.Random) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    for n in range(rows):
        case = n // per_case
        first = n % per_case == 0
        quantity = rng.randint(1, 40)
        base = rng.randint(100000, 900000)
        writer.writerow({
            "case": f"IMP-{case:05d}",
            "title": f"{quantity} rifles found at {rng.choice(PLACES)}" if first else "",
            "narrative": "Imported from the national register. " * 3 if first else "",
            "found_on": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if first else "",
            "concerned_exporter": "DEU" if first else "",
            "category": "small_arms", "quantity": str(quantity),
            "make": rng.choice(MAKERS), "model": f"M{rng.randint(10, 99)}",
            "serial": ";".join(f"BX-{base + i}" for i in range(min(quantity, 3))),
            "calibre": "7.62x39mm", "marking_condition": "intact"})
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--items-per-case", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), secret_key="bench",
                            database_url=f"sqlite:///{folder}/divex.sqlite3",
                            kdf_memory_kib=8192, kdf_iterations=1)
        prepare_store(settings)
        exchange = open_exchange(settings)
        directory = exchange.directory
        directory.initialise("secretariat", PASSWORD)
        secretariat = directory.authenticate("secretariat", PASSWORD)
        directory.create_state(secretariat, "FRA", "state_party", "fra.admin", PASSWORD)
        admin = directory.authenticate("fra.admin", PASSWORD)
        directory.add_user(admin, "fra.analyst", PASSWORD, ["analyst"])
        analyst = directory.authenticate("fra.analyst", PASSWORD)
        text = write_csv(args.rows, args.items_per_case, random.Random(7))

        started = time.perf_counter()
        for n in range(args.baseline):
            exchange.cases.open_case(analyst, {"title": f"Baseline case {n}"},
                                     items=[{"category": "small_arms", "quantity": "2"}] *
                                     args.items_per_case)
        baseline = (time.perf_counter() - started) / args.baseline
        exchange.follow()

        started = time.perf_counter()
        plan = read_csv(text)
        checked = time.perf_counter() - started
        assert not plan.problems, plan.problems[:3]
        started = time.perf_counter()
        exchange.cases.import_cases(analyst, plan.cases)
        imported = time.perf_counter() - started
        started = time.perf_counter()
        exchange.follow()
        followed = time.perf_counter() - started
        total = checked + imported
        per_case = imported / len(plan.cases)
        print(f"{args.rows} rows, {len(plan.cases)} cases, {plan.items} items, "
              f"{len(text) / 1e6:.1f} MB of CSV")
        print(f"check {checked:.1f} s, import {imported:.1f} s: {total:.1f} s in all "
              f"(goal < 60 s); read models catch up in {followed:.1f} s more")
        print(f"per case: import {per_case * 1e3:.2f} ms, open_case one by one "
              f"{baseline * 1e3:.2f} ms (ratio {per_case / baseline:.2f})")
        exchange.close()


if __name__ == "__main__":
    main()
