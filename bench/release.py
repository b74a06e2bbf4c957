"""Release computation and audit for many proposed cases, on SQLite (run by hand).

`.venv/bin/python bench/release.py [-n 100000]` fills the tier-1 read model of a fresh SQLite
file with N proposed, consented cases (random coarse facts over 40 states, 10 years, 6
regions, 8 categories), each sealed under its own facts key as a proposal is, and times
reading and opening them (first read, then a read with the opened facts in memory), the
primary suppression, the LP audit with its complementary suppression, and the whole release;
it prints the figures suppressed.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from uuid import UUID

from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore

from cases.kernel.keystore import KeyStore, policy_fact_keys
from cases.policy.facts import seal_facts
from crypto import UserKey
from projections.disclosure import Thresholds
from projections.policy_summary import PolicySummary, PolicySummaryView, policy_facts
from projections.summaries import figures, summarise

STATES = [f"S{n:02d}" for n in range(40)]
REGIONS = ["Africa", "Asia", "Europe", "North America", "Oceania", "South America"]
CATEGORIES = ["small_arms", "light_weapons", "ammunition", "parts", "tanks", "artillery",
              "mixed", "unknown"]
POINTS = ["before_transfer", "in_transit", "at_or_after_delivery", "stockpile_loss", "unknown"]
STATUSES = ["suspected", "under_investigation", "confirmed", "closed"]


def facts(n: int, rng: random.Random) -> list[dict[str, object]]:
    found = []
    for i in range(n):
        owner = rng.choice(STATES[:10]) if rng.random() < 0.5 else rng.choice(STATES)
        asked = rng.random() < 0.3
        found.append({"case_id": str(UUID(int=i)), "owner": owner, "year": rng.randint(2016, 2025),
                      # skewed: a few rare regions and categories give small cells to audit
                      "region": rng.choices(REGIONS, [50, 20, 20, 8, 0.05, 1.95])[0],
                      "category": rng.choices(CATEGORIES, [60, 15, 15, 7, 0.05, 0.1, 2, 0.85])[0],
                      "point_of_diversion": rng.choice(POINTS), "status": rng.choice(STATUSES),
                      "items": rng.randint(1, 40), "trace_requested": asked,
                      "traced": asked and rng.random() < 0.4,
                      "answered_in_time": asked and rng.random() < 0.6})
    return found


def sealed(found: list[dict[str, object]], subgroup: UserKey,
           ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The read model's rows and the keystore's facts keys, as proposals write them."""
    rows, keys = [], []
    for f in found:
        case_id, owner = str(f.pop("case_id")), str(f.pop("owner"))
        body, key = seal_facts(f, subgroup.public_bytes, UUID(case_id), 1)
        rows.append({"case_id": case_id, "owner": owner, "version": 1, "sealed": body,
                     "concerned": "", "consents": owner})
        keys.append({"case_id": case_id, "version": 1, "sealed": key})
    return rows, keys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        datastore = SQLAlchemyDatastore(url=f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        view = PolicySummaryView(datastore, tracking_table_name="policy_summary_tracking")
        view.create_table()
        keystore = KeyStore(datastore.engine)
        keystore.create_tables()
        summary_projection = PolicySummary(view)
        summary_projection.subgroup_key, summary_projection.keystore = UserKey.generate(), keystore
        rows, keys = sealed(facts(args.n, random.Random(24)),
                            summary_projection.subgroup_key)
        with datastore.engine.begin() as connection:
            connection.execute(policy_facts.insert(), rows)
            connection.execute(policy_fact_keys.insert(), keys)
        started = time.perf_counter()
        summary_projection.included()
        opened = time.perf_counter()
        found = summary_projection.included()
        read = time.perf_counter()
        one_year = summarise([f for f in found if f["year"] == 2025], Thresholds())
        released = time.perf_counter()
        every_year = summarise(found, Thresholds())
        done = time.perf_counter()
        for label, summary in (("release of 2025", one_year), ("all years", every_year)):
            hidden = sum(v is None for v in figures(summary).values())
            print(f"{label}: {len(figures(summary))} figures, {hidden} suppressed, "
                  f"{len(summary.report)} in the audit report")
        print(f"read and open {len(found)} cases: {opened - started:.2f} s, again with the "
              f"opened facts in memory: {read - opened:.2f} s; release of 2025 (computation "
              f"and audit): {released - read:.2f} s; all years at once: {done - released:.2f} s")


if __name__ == "__main__":
    main()
