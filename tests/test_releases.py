"""Releases freeze a closed year's tables with their audit; a correction may not move a figure
by less than k, nor publish one an earlier edition suppressed."""

from __future__ import annotations

import pytest

from cases.kernel.errors import Conflict, Forbidden, InvalidInput
from cases.policy.releases import Releases
from infra.wiring import Exchange
from tests.conftest import register_states

FIGURES = {"category|2025|small_arms": 12, "category|2025|tanks": None,
           "category|2025|total": 20}
RULES = {"k": 5, "min_reporters": 3, "dominance": 60, "protection": 3}
AUDIT = [{"figure": "category|2025|tanks", "reason": "fewer than 5 cases", "lower": "0",
          "upper": "8", "protected": True}]


def events(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


@pytest.fixture
def people(exchange: Exchange) -> dict:
    return register_states(exchange.directory, ("FRA",))


def test_the_secretariat_publishes_a_closed_year(exchange: Exchange, people: dict) -> None:
    releases = Releases(exchange.ledger)
    release = releases.publish(people["secretariat"], 2025, RULES, FIGURES, AUDIT, this_year=2026)
    assert release.editions[0]["figures"] == FIGURES
    assert release.editions[0]["audit"] == AUDIT and release.editions[0]["rules"] == RULES
    assert [r.year for r in releases.all()] == [2025]


def test_others_and_open_years_are_refused_with_nothing_stored(exchange: Exchange,
                                                               people: dict) -> None:
    releases, before = Releases(exchange.ledger), events(exchange)
    with pytest.raises(Forbidden):
        releases.publish(people["FRA.admin"], 2025, RULES, FIGURES, AUDIT, this_year=2026)
    with pytest.raises(InvalidInput) as refused:
        releases.publish(people["secretariat"], 2026, RULES, FIGURES, AUDIT, this_year=2026)
    assert refused.value.field == "year"
    assert events(exchange) == before


def test_a_correction_that_would_reveal_a_small_difference_is_refused(
        exchange: Exchange, people: dict) -> None:
    releases = Releases(exchange.ledger)
    releases.publish(people["secretariat"], 2025, RULES, FIGURES, AUDIT, this_year=2026)
    before = events(exchange)
    nudged = dict(FIGURES, **{"category|2025|small_arms": 14, "category|2025|total": 22})
    with pytest.raises(Conflict, match="fewer than 5"):
        releases.publish(people["secretariat"], 2025, RULES, nudged, AUDIT, this_year=2026)
    with pytest.raises(Conflict, match="Nothing changed"):
        releases.publish(people["secretariat"], 2025, RULES, FIGURES, AUDIT, this_year=2026)
    assert events(exchange) == before
    moved = dict(FIGURES, **{"category|2025|small_arms": 18, "category|2025|total": 26})
    release = releases.publish(people["secretariat"], 2025, RULES, moved, AUDIT, this_year=2026)
    assert len(release.editions) == 2 and release.editions[-1]["figures"] == moved
    uncovered = dict(moved, **{"category|2025|tanks": 8})
    with pytest.raises(Conflict, match="suppressed before"):
        releases.publish(people["secretariat"], 2025, RULES, uncovered, AUDIT, this_year=2026)
