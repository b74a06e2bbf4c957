"""Disclosure control for the tier-1 tables: thresholds, then complementary suppression.

A table counts distinct cases by row (e.g. year) and column (e.g. Art. 2(1) category), each
case in exactly one cell, with row, column and grand totals. A cell or total is published only
if it counts at least ``k`` cases from at least ``min_reporters`` reporting states; the rest
is suppressed. Then complementary suppression: as long as the published figures still pin
down a suppressed one (the totals are linear equations over the suppressed figures), one more
published cell next to it is suppressed. Published tables carry counts only: no case ids, no
reporting state, no free text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

TOTAL = "total"


@dataclass(frozen=True)
class Thresholds:
    k: int = 5
    min_reporters: int = 2


@dataclass(frozen=True)
class Fact:
    """One case's place in a table, and the state that reported it."""

    row: str
    column: str
    reporter: str


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


# A figure of the table: ("cell", row, column), ("row", row, ""), ("column", "", column)
# or ("total", "", "").
Figure = tuple[str, str, str]


def protect(facts: Iterable[Fact], rows: list[str], columns: list[str],
            thresholds: Thresholds = Thresholds()) -> Table:
    """The table of ``facts`` with every unsafe figure suppressed."""
    counts: dict[Figure, int] = {}
    reporters: dict[Figure, set[str]] = {}
    for fact in facts:
        for figure in (("cell", fact.row, fact.column), ("row", fact.row, ""),
                       ("column", "", fact.column), (TOTAL, "", "")):
            counts[figure] = counts.get(figure, 0) + 1
            reporters.setdefault(figure, set()).add(fact.reporter)
    figures = figures_of(rows, columns)
    hidden = {f for f in figures
              if counts.get(f, 0) > 0 and (counts[f] < thresholds.k
                                           or len(reporters[f]) < thresholds.min_reporters)}
    while True:
        exposed = determined(hidden, rows, columns)
        if not exposed:
            break
        hidden.add(_partner(min(exposed), hidden, counts, rows, columns))
    value = {f: (None if f in hidden else counts.get(f, 0)) for f in figures}
    return Table(rows=list(rows), columns=list(columns),
                 cells={(r, c): value[("cell", r, c)] for r in rows for c in columns},
                 row_totals={r: value[("row", r, "")] for r in rows},
                 column_totals={c: value[("column", "", c)] for c in columns},
                 total=value[(TOTAL, "", "")])


def figures_of(rows: list[str], columns: list[str]) -> list[Figure]:
    return ([("cell", r, c) for r in rows for c in columns] + [("row", r, "") for r in rows]
            + [("column", "", c) for c in columns] + [(TOTAL, "", "")])


def equations(rows: list[str], columns: list[str]) -> list[list[tuple[Figure, int]]]:
    """The additive relations between the figures, each as terms summing to zero."""
    found = [[*(((("cell", r, c)), 1) for c in columns), (("row", r, ""), -1)] for r in rows]
    found += [[*((("cell", r, c), 1) for r in rows), (("column", "", c), -1)] for c in columns]
    found.append([*((("row", r, ""), 1) for r in rows), ((TOTAL, "", ""), -1)])
    found.append([*((("column", "", c), 1) for c in columns), ((TOTAL, "", ""), -1)])
    return found


def determined(hidden: set[Figure], rows: list[str], columns: list[str]) -> set[Figure]:
    """The suppressed figures that the published ones pin down exactly.

    Each relation, with the published figures moved to the other side, is a linear equation
    over the suppressed ones; a suppressed figure is determined when its unit vector lies in
    the span of the equations (a pivot of the reduced row echelon form with no other term).
    """
    unknowns = sorted(hidden)
    index = {f: i for i, f in enumerate(unknowns)}
    matrix = []
    for terms in equations(rows, columns):
        row = [Fraction(0)] * len(unknowns)
        for figure, coefficient in terms:
            if figure in index:
                row[index[figure]] += coefficient
        if any(row):
            matrix.append(row)
    pinned = set()
    for row in _reduced(matrix):
        nonzero = [j for j, v in enumerate(row) if v]
        if len(nonzero) == 1:
            pinned.add(unknowns[nonzero[0]])
    return pinned


def _reduced(matrix: list[list[Fraction]]) -> list[list[Fraction]]:
    """Reduced row echelon form (exact arithmetic)."""
    rows = [list(r) for r in matrix]
    pivot_row = 0
    width = len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((i for i in range(pivot_row, len(rows)) if rows[i][column]), None)
        if pivot is None:
            continue
        rows[pivot_row], rows[pivot] = rows[pivot], rows[pivot_row]
        lead = rows[pivot_row][column]
        rows[pivot_row] = [v / lead for v in rows[pivot_row]]
        for i in range(len(rows)):
            if i != pivot_row and rows[i][column]:
                factor = rows[i][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[pivot_row], strict=True)]
        pivot_row += 1
    return rows[:pivot_row]


def _partner(exposed: Figure, hidden: set[Figure], counts: dict[Figure, int],
             rows: list[str], columns: list[str]) -> Figure:
    """The published figure to suppress so that ``exposed`` is no longer pinned down.

    Among the figures sharing a relation with it, the one that leaves the fewest figures
    pinned down (looking one step ahead keeps the cascade short), then the smallest (fewest
    cases lost; an empty cell costs nothing).
    """
    neighbours = {f for terms in equations(rows, columns) if any(f == exposed for f, _ in terms)
                  for f, _ in terms if f not in hidden}
    if not neighbours:  # every figure around it is hidden already: hide what remains
        neighbours = {f for f in figures_of(rows, columns) if f not in hidden}
    return min(neighbours, key=lambda f: (len(determined(hidden | {f}, rows, columns)),
                                          counts.get(f, 0), f))
