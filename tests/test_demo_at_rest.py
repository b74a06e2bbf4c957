"""After the demo seed, the raw database holds none of the seeded case text."""

from __future__ import annotations

import json

from infra.demo import seed
from infra.settings import Settings
from infra.wiring import Exchange
from tests.test_no_secrets_at_rest import raw_database_bytes


def seeded_secrets(exchange: Exchange) -> list[str]:
    """Titles, narratives, serials and actor names, read back through a reader's view."""
    viewer = exchange.directory.authenticate("fra.analyst", "demo-exchange-2026")
    rows, _ = exchange.case_index.view.list_for("FRA", __import__(
        "projections.case_index", fromlist=["CaseFilter"]).CaseFilter(), limit=100)
    texts = []
    for row in rows:
        view = exchange.cases.view(viewer, row.case_id)
        texts += [view.summary["title"], view.summary["narrative"]]
        texts += [item[k] for item in view.items.values() for k in ("serial", "lot")
                  if item.get(k)]
        texts += [actor["name"] for actor in view.actors.values()]
    # Sealed meeting outcome, lesson and trace request texts from the seed.
    texts += ["Participants agreed that the markings point to a re-export.",
              "A lot with the same import marking crossed our northern border",
              "End-user certificate: EUC-2018-0419",
              "Re-exports through transit hubs recur in several cases.",
              "Please trace these items: to whom were they exported?",
              "Photos of the markings, please."]
    return texts


def test_demo_database_reveals_no_case_text(exchange: Exchange, settings: Settings) -> None:
    seed(exchange, cases=14)
    secrets = seeded_secrets(exchange)
    assert len(secrets) >= 4 * 4
    exchange.ledger.recorder.datastore.engine.dispose()
    dump = raw_database_bytes(settings)
    assert b"fra.analyst" in dump  # the dump is real
    for text in secrets:
        for form in (text.encode(), json.dumps(text)[1:-1].encode()):
            assert form not in dump, text
