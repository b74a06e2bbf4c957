"""Disclosure control for the tier-1 tables: primary suppression with states as contributors,
then complementary suppression until a linear-programming audit (projections.audit) proves
every suppressed figure protected.

A table counts cases (or, weighted, their items) by row (e.g. year) and column (e.g. Art. 2(1)
category), each case in exactly one cell, with row, column and grand totals. Every figure is
named "table|row|column" ("total" for a margin). The contributors whose share is limited are
the reporting states, because the members themselves are the adversary: a state that removes
its own cases from a figure must still face at least two other states mixed together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

TOTAL = "total"


@dataclass(frozen=True)
class Thresholds:
    """The rules a published figure passes; every one is a setting."""

    k: int = 5  # at least k cases behind a non-zero figure
    min_reporters: int = 3  # from at least this many reporting states
    dominance: int = 60  # no state (and, weighted, no case) above this % of the figure
    protection: int = 3  # a suppressed count stays uncertain by at least this many cases


@dataclass(frozen=True)
class Fact:
    """One case's place in a table, the state that reported it and its weight (1 for a
    count, its number of items for an item table)."""

    row: str
    column: str
    reporter: str
    case: str = ""
    weight: int = 1


@dataclass
class Table:
    """A protected table: ``None`` stands for a suppressed figure."""

    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], int | None] = field(default_factory=dict)
    row_totals: dict[str, int | None] = field(default_factory=dict)
    column_totals: dict[str, int | None] = field(default_factory=dict)
    total: int | None = None

    def suppressed(self) -> int:
        figures = [*self.cells.values(), *self.row_totals.values(),
                   *self.column_totals.values(), self.total]
        return sum(v is None for v in figures)


@dataclass(frozen=True)
class Grid:
    """A table before protection: its name, rows, columns and facts."""

    name: str
    rows: list[str]
    columns: list[str]
    facts: list[Fact]
    weighted: bool = False

    def figures(self) -> list[str]:
        rows, columns = [*self.rows, TOTAL], [*self.columns, TOTAL]
        return [f"{self.name}|{r}|{c}" for r in rows for c in columns]

    def equations(self) -> list[dict[str, int]]:
        """The additive relations of the table, each as coefficients summing to zero."""
        name = self.name
        across = [{**{f"{name}|{r}|{c}": 1 for c in self.columns}, f"{name}|{r}|{TOTAL}": -1}
                  for r in [*self.rows, TOTAL]]
        down = [{**{f"{name}|{r}|{c}": 1 for r in self.rows}, f"{name}|{TOTAL}|{c}": -1}
                for c in [*self.columns, TOTAL]]
        return across + down


@dataclass
class Contribution:
    """What a figure is made of: its value, cases, and the share of each state and case."""

    value: int = 0
    cases: set[str] = field(default_factory=set)
    by_state: dict[str, int] = field(default_factory=dict)
    largest_case: int = 0


def contributions(grid: Grid) -> dict[str, Contribution]:
    found = {f: Contribution() for f in grid.figures()}
    for n, fact in enumerate(grid.facts):
        case = fact.case or str(n)
        for r in (fact.row, TOTAL):
            for c in (fact.column, TOTAL):
                entry = found[f"{grid.name}|{r}|{c}"]
                entry.value += fact.weight
                entry.cases.add(case)
                entry.by_state[fact.reporter] = entry.by_state.get(fact.reporter, 0) + fact.weight
                entry.largest_case = max(entry.largest_case, fact.weight)
    return found


def primary_reason(entry: Contribution, thresholds: Thresholds, weighted: bool) -> str | None:
    """Why a figure may not be published on its own, or None when it passes every rule."""
    if entry.value == 0:
        return None
    if len(entry.cases) < thresholds.k:
        return f"fewer than {thresholds.k} cases"
    if len(entry.by_state) < thresholds.min_reporters:
        return f"fewer than {thresholds.min_reporters} reporting states"
    if max(entry.by_state.values()) * 100 > thresholds.dominance * entry.value:
        return f"one state holds more than {thresholds.dominance}%"
    if weighted and entry.largest_case * 100 > thresholds.dominance * entry.value:
        return f"one case holds more than {thresholds.dominance}%"
    return None


def primary(grids: Iterable[Grid], thresholds: Thresholds) -> tuple[dict[str, int],
                                                                    dict[str, str]]:
    """Every figure's true value, and the figures each rule suppresses with the reason.

    A zero in a row or column holding a suppressed cell is suppressed too: published, it
    would say that all of that line's cases share the other attribute.
    """
    values: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for grid in grids:
        found = contributions(grid)
        values.update({f: e.value for f, e in found.items()})
        for figure, entry in found.items():
            reason = primary_reason(entry, thresholds, grid.weighted)
            if reason:
                reasons[figure] = reason
        lines = {part for figure in reasons if figure.startswith(f"{grid.name}|")
                 for part in _lines(figure)}
        for r in grid.rows:
            for c in grid.columns:
                figure = f"{grid.name}|{r}|{c}"
                if found[figure].value == 0 and (_lines(figure) & lines) \
                        and figure not in reasons:
                    reasons[figure] = "a zero beside a suppressed figure"
    return values, reasons


def _lines(figure: str) -> set[str]:
    _, row, column = figure.split("|")
    return {f"row:{row}", f"column:{column}"} - {f"row:{TOTAL}", f"column:{TOTAL}"}


def table_of(grid: Grid, published: dict[str, int | None]) -> Table:
    """The grid's published figures as a table."""
    def value(r: str, c: str) -> int | None:
        return published[f"{grid.name}|{r}|{c}"]
    return Table(rows=list(grid.rows), columns=list(grid.columns),
                 cells={(r, c): value(r, c) for r in grid.rows for c in grid.columns},
                 row_totals={r: value(r, TOTAL) for r in grid.rows},
                 column_totals={c: value(TOTAL, c) for c in grid.columns},
                 total=value(TOTAL, TOTAL))


def tables_of(figures: dict[str, int | None]) -> dict[str, Table]:
    """Tables rebuilt from a release's flat figures ("table|row|column")."""
    grids: dict[str, tuple[list[str], list[str]]] = {}
    for key in figures:
        name, row, column = key.split("|")
        rows, columns = grids.setdefault(name, ([], []))
        if row != TOTAL and row not in rows:
            rows.append(row)
        if column != TOTAL and column not in columns:
            columns.append(column)
    return {name: table_of(Grid(name, rows, columns, []), figures)
            for name, (rows, columns) in grids.items()}
