"""Disclosure control: no published figure breaks a rule, and the LP audit finds every
suppressed figure uncertain by at least the protection level, in a release and across a
release and its correction."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.audit import Audit, protect_release, required
from projections.disclosure import Fact, Grid, Thresholds, contributions, primary
from projections.summaries import figures, grids, links, summarise

YEARS = [2024, 2025]
STATES = ["FRA", "DEU", "MEX", "NGA", "PER"]
REGIONS = ["Africa", "Europe", "South America"]
CATEGORIES = ["small_arms", "light_weapons", "ammunition"]
RULES = Thresholds()


def fact(n: int, owner: str, year: int = 2025, region: str = "Africa",
         category: str = "small_arms", items: int = 1, traced: bool | None = None
         ) -> dict[str, Any]:
    return {"case_id": f"case-{n}", "owner": owner, "year": year, "region": region,
            "category": category, "point_of_diversion": "in_transit", "status": "suspected",
            "items": items, "trace_requested": traced is not None, "traced": bool(traced),
            "answered_in_time": bool(traced)}


facts_strategy = st.lists(
    st.builds(lambda owner, year, region, category, items, traced: (
        owner, year, region, category, items, traced),
        st.sampled_from(STATES), st.sampled_from(YEARS), st.sampled_from(REGIONS),
        st.sampled_from(CATEGORIES), st.integers(1, 30), st.sampled_from([None, True, False])),
    max_size=45).map(lambda rows: [fact(n, *row) for n, row in enumerate(rows)])


def attacker(facts: list[dict[str, Any]], published: dict[str, int | None]) -> Audit:
    """An independent attacker's system: every table's relations and the links."""
    tables = grids(facts)
    equal, at_most = links({g.name: g for g in tables})
    return Audit(list(published), [e for g in tables for e in g.equations()] + equal, at_most)


def truth(facts: list[dict[str, Any]]) -> dict[str, int]:
    values, _ = primary(grids(facts), RULES)
    return {**values, "cases|total|total": len(facts)}


def assert_protected(facts: list[dict[str, Any]], published: dict[str, int | None],
                     primary_hidden: set[str]) -> None:
    values = truth(facts)
    audit = attacker(facts, published)
    known = {f: v for f, v in published.items() if v is not None}
    for figure in primary_hidden:
        lower, upper = audit.interval(figure, known)
        low, high = required(values[figure], RULES.protection)
        if figure.startswith("items|"):
            continue  # protected by their own, wider margin: checked in the audit itself
        assert lower <= low + 1e-6 and upper >= high - 1e-6, (figure, lower, upper)


@settings(max_examples=20, deadline=None)
@given(facts=facts_strategy)
def test_no_published_figure_breaks_a_rule(facts: list[dict[str, Any]]) -> None:
    published = figures(summarise(facts, RULES))
    for grid in grids(facts):
        for figure, entry in contributions(grid).items():
            value = published[figure]
            if value is None or value == 0:
                continue
            assert value == entry.value
            assert len(entry.cases) >= RULES.k and len(entry.by_state) >= RULES.min_reporters
            assert max(entry.by_state.values()) * 100 <= RULES.dominance * value
            if grid.weighted:
                assert entry.largest_case * 100 <= RULES.dominance * value


@settings(max_examples=12, deadline=None)
@given(facts=facts_strategy)
def test_every_suppressed_figure_is_uncertain_by_the_protection_level(
        facts: list[dict[str, Any]]) -> None:
    summary = summarise(facts, RULES)
    assert all(f.protected for f in summary.report)
    hidden = {f.figure for f in summary.report if not f.reason.startswith("protects")}
    assert_protected(facts, figures(summary), hidden)


@settings(max_examples=8, deadline=None)
@given(facts=facts_strategy, more=facts_strategy)
def test_a_correction_keeps_every_suppressed_figure_protected(
        facts: list[dict[str, Any]], more: list[dict[str, Any]]) -> None:
    first = figures(summarise(facts, RULES))
    later = facts + [dict(f, case_id=f"later-{f['case_id']}") for f in more]
    corrected = figures(summarise(later, RULES, previous=first))
    for figure, value in corrected.items():
        if first.get(figure, 0) is None:
            assert value is None, figure  # suppressed once, suppressed for good
        elif value is not None and figure in first:
            assert not 0 < abs(value - first[figure]) < RULES.k, figure  # type: ignore[operator]
    hidden = {f for f, v in corrected.items() if v is None}
    assert_protected(later, corrected, {f for f in hidden if f in first and first[f] is None})


def test_one_state_is_suppressed_however_many_cases() -> None:
    summary = summarise([fact(n, "FRA") for n in range(40)], RULES)
    assert summary.tables["category"].cells[("2025", "small_arms")] is None
    assert summary.cases is None


def test_a_dominant_state_is_suppressed_and_a_mix_of_three_is_published() -> None:
    dominated = [fact(n, "FRA") for n in range(7)] + [fact(7, "DEU"), fact(8, "MEX")]
    assert summarise(dominated, RULES).cases is None  # FRA holds 7 of 9: 78 % > 60 %
    mixed = [fact(n, STATES[n % 3]) for n in range(9)]
    assert summarise(mixed, RULES).cases == 9


def test_one_big_case_does_not_dominate_an_item_total() -> None:
    facts = [fact(n, STATES[n % 3], items=1) for n in range(9)] + [fact(9, "DEU", items=1000)]
    table = summarise(facts, RULES).tables["items"]
    assert table.cells[("2025", "small_arms")] is None
    assert summarise(facts, RULES).tables["category"].cells[("2025", "small_arms")] == 10


def test_a_zero_beside_a_suppressed_cell_is_suppressed() -> None:
    facts = [fact(n, STATES[n % 3], region="Africa") for n in range(9)]
    facts.append(fact(9, "FRA", region="Europe", traced=False))
    reasons = primary(grids(facts), RULES)[1]
    assert reasons["traced_by_region|2025 Europe|traced"] == "a zero beside a suppressed figure"


def test_the_audit_finds_a_lone_suppressed_cell_exposed_and_a_partner_protects_it() -> None:
    grid = Grid("t", ["2025"], ["a", "b"],
                [Fact("2025", "a", s, f"a{n}{s}") for n in range(3) for s in STATES[:3]]
                + [Fact("2025", "b", "FRA", "b1")])
    values, reasons = primary([grid], RULES)
    assert set(reasons) == {"t|2025|b", "t|total|b"}
    audit = Audit(list(values), grid.equations(), [])
    shown = {f: v for f, v in values.items() if f not in reasons}
    assert audit.interval("t|2025|b", shown) == (1, 1)  # total minus the other cell
    published, report = protect_release(audit, values, reasons,
                                        {f: RULES.protection for f in values})
    assert published["t|2025|a"] == 9 or published["t|2025|total"] is None
    assert all(f.protected for f in report) and sum(v is None for v in published.values()) > 2
