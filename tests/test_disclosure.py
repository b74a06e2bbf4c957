"""Disclosure control: no published figure below the thresholds, and no suppressed figure
that the published ones let anyone solve for."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.disclosure import (
    TOTAL,
    Fact,
    Thresholds,
    equations,
    figures_of,
    protect,
)

ROWS = ["2023", "2024", "2025", "2026"]
COLUMNS = ["small_arms", "light_weapons", "ammunition", "tanks"]
STATES = ["FRA", "DEU", "MEX"]


def published_figures(table) -> dict:
    found = {("cell", r, c): v for (r, c), v in table.cells.items()}
    found.update({("row", r, ""): v for r, v in table.row_totals.items()})
    found.update({("column", "", c): v for c, v in table.column_totals.items()})
    found[(TOTAL, "", "")] = table.total
    return found


def truth(facts: list[Fact]) -> tuple[dict, dict]:
    counts, reporters = {}, {}
    for f in facts:
        for figure in (("cell", f.row, f.column), ("row", f.row, ""), ("column", "", f.column),
                       (TOTAL, "", "")):
            counts[figure] = counts.get(figure, 0) + 1
            reporters.setdefault(figure, set()).add(f.reporter)
    return counts, reporters


def rank(matrix: list[list[float]]) -> int:
    """Rank by Gaussian elimination with partial pivoting in floats: an independent check."""
    rows = [list(r) for r in matrix]
    found = 0
    for column in range(len(rows[0]) if rows else 0):
        pivot = max(range(found, len(rows)), key=lambda i: abs(rows[i][column]), default=None)
        if pivot is None or abs(rows[pivot][column]) < 1e-9:
            continue
        rows[found], rows[pivot] = rows[pivot], rows[found]
        for i in range(found + 1, len(rows)):
            factor = rows[i][column] / rows[found][column]
            rows[i] = [a - factor * b for a, b in zip(rows[i], rows[found], strict=True)]
        found += 1
    return found


def solvable(figure, hidden: list, rows: list[str], columns: list[str]) -> bool:
    """Could someone solve for ``figure`` from the published figures and the totals' sums?"""
    index = {f: i for i, f in enumerate(hidden)}
    system = []
    for terms in equations(rows, columns):
        row = [0.0] * len(hidden)
        for f, coefficient in terms:
            if f in index:
                row[index[f]] += coefficient
        system.append(row)
    unit = [1.0 if f == figure else 0.0 for f in hidden]
    return rank([*system, unit]) == rank(system)


facts_strategy = st.lists(
    st.builds(Fact, st.sampled_from(ROWS[:3]), st.sampled_from(COLUMNS[:3]),
              st.sampled_from(STATES)), max_size=60)


@settings(max_examples=150, deadline=None)
@given(facts=facts_strategy, k=st.integers(2, 6))
def test_no_published_figure_is_below_the_thresholds(facts: list[Fact], k: int) -> None:
    table = protect(facts, ROWS[:3], COLUMNS[:3], Thresholds(k=k, min_reporters=2))
    counts, reporters = truth(facts)
    for figure, value in published_figures(table).items():
        if value is None:
            continue
        assert value == counts.get(figure, 0)
        if value:
            assert value >= k and len(reporters[figure]) >= 2, figure


@settings(max_examples=150, deadline=None)
@given(facts=facts_strategy, k=st.integers(2, 6))
def test_no_suppressed_figure_can_be_solved_for(facts: list[Fact], k: int) -> None:
    rows, columns = ROWS[:3], COLUMNS[:3]
    table = protect(facts, rows, columns, Thresholds(k=k))
    hidden = [f for f, v in published_figures(table).items() if v is None]
    for figure in hidden:
        assert not solvable(figure, hidden, rows, columns), figure


def test_a_single_small_cell_takes_a_partner_in_its_row_and_column() -> None:
    facts = [Fact(r, c, s) for r in ROWS[:2] for c in COLUMNS[:2] for s in STATES * 3]
    facts += [Fact("2023", "tanks", "FRA")]  # one case: must not show, nor be derivable
    rows, columns = ROWS[:2], [*COLUMNS[:2], "tanks"]
    table = protect(facts, rows, columns)
    assert table.cells[("2023", "tanks")] is None
    hidden = [f for f, v in published_figures(table).items() if v is None]
    assert len(hidden) >= 2
    assert not any(solvable(f, hidden, rows, columns) for f in hidden)
    assert sum(v == 9 for v in table.cells.values()) >= 2  # safe cells are still published


def test_one_reporter_is_suppressed_however_many_cases() -> None:
    facts = [Fact("2024", "small_arms", "FRA")] * 40
    table = protect(facts, ["2024"], ["small_arms"])
    assert table.cells[("2024", "small_arms")] is None and table.total is None


def test_empty_cells_are_published_as_zero() -> None:
    facts = [Fact("2024", "small_arms", s) for s in STATES * 2]
    table = protect(facts, ["2024", "2025"], ["small_arms"])
    assert table.cells[("2025", "small_arms")] == 0 and table.total == 6
    assert set(figures_of(["2024"], ["x"])) == {("cell", "2024", "x"), ("row", "2024", ""),
                                                ("column", "", "x"), (TOTAL, "", "")}
