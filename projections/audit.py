"""The audit of a release: what an attacker can derive about each suppressed figure.

Everything published is known: the published figures, every table's additive relations and
the links between tables (the same cases counted by year in every dimension table, the
headline equal to their grand totals, ...), and every figure is at least 0. For each figure
suppressed by a rule, two linear programmes (scipy's HiGHS) give the least and the greatest
value consistent with all of it. A figure is protected when the interval reaches at least
``q`` above its value and down to ``max(0, value - q)``; while one is not, complementary
suppression hides one more published figure related to it and the audit runs again.

The programmes are continuous relaxations: the integer interval may be slightly narrower
(README, residual risks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

Equation = dict[str, int]  # figure -> coefficient; the terms sum to zero (or stay <= 0)


@dataclass(frozen=True)
class Finding:
    """One suppressed figure in the audit report."""

    figure: str
    reason: str
    lower: float
    upper: float
    protected: bool

    def as_record(self) -> dict[str, object]:
        """As a release stores it (canonical JSON has no floats: the ends are decimal text;
        an unbounded upper end is null)."""
        return {"figure": self.figure, "reason": self.reason, "lower": f"{self.lower:g}",
                "upper": None if math.isinf(self.upper) else f"{self.upper:g}",
                "protected": self.protected}


class Audit:
    """The linear system an attacker holds; bounds of one figure given what is published."""

    def __init__(self, figures: list[str], equalities: list[Equation],
                 inequalities: list[Equation]) -> None:
        self.index = {f: i for i, f in enumerate(figures)}
        self.a_eq = self._matrix(equalities)
        self.a_ub = self._matrix(inequalities)

    def _matrix(self, equations: list[Equation]) -> np.ndarray | None:
        if not equations:
            return None
        matrix = np.zeros((len(equations), len(self.index)))
        for i, terms in enumerate(equations):
            for figure, coefficient in terms.items():
                matrix[i, self.index[figure]] += coefficient
        return matrix

    def interval(self, figure: str, published: dict[str, int]) -> tuple[float, float]:
        """The least and greatest value of ``figure`` consistent with ``published``."""
        bounds = [(published[f], published[f]) if f in published else (0, None)
                  for f in self.index]
        found = []
        for sign in (1, -1):
            objective = np.zeros(len(self.index))
            objective[self.index[figure]] = sign
            result = linprog(objective, A_ub=self.a_ub,
                             b_ub=None if self.a_ub is None else np.zeros(len(self.a_ub)),
                             A_eq=self.a_eq,
                             b_eq=None if self.a_eq is None else np.zeros(len(self.a_eq)),
                             bounds=bounds, method="highs")
            if result.status == 3:  # unbounded: only upwards, figures are >= 0
                found.append(math.inf)
            else:
                found.append(sign * result.fun)
        return found[0], found[1]


def required(value: int, protection: int) -> tuple[float, float]:
    """The interval a suppressed figure of ``value`` must at least span."""
    return max(0, value - protection), value + protection


def protect_release(audit: Audit, values: dict[str, int], reasons: dict[str, str],
                    protection: dict[str, int]) -> tuple[dict[str, int | None],
                                                         list[Finding]]:
    """Complementary suppression until every figure suppressed by a rule is protected.

    ``reasons`` are the figures suppressed by a rule; ``protection`` the margin each needs.
    Returns the published figures (None: suppressed) and the audit report.
    """
    hidden, ruled = set(reasons), set(reasons)
    reasons = dict(reasons)

    def check(figure: str) -> Finding:
        """The figure's interval; one hidden only to protect another needs no margin."""
        published = {f: v for f, v in values.items() if f not in hidden}
        lower, upper = audit.interval(figure, published)
        low, high = required(values[figure], protection[figure])
        ok = figure not in ruled or (lower <= low + 1e-6 and upper >= high - 1e-6)
        return Finding(figure, reasons[figure], round(lower, 3), round(upper, 3), ok)

    # Hiding more only removes constraints, so an interval only widens: a figure found
    # protected stays protected, and each is worked on once.
    for figure in sorted(reasons):
        while not check(figure).protected:
            partner = _partner(audit, figure, hidden, values, protection[figure])
            if partner is None:
                break  # nothing left to hide: the report says it is not protected
            hidden.add(partner)
            reasons[partner] = f"protects {figure}"
    report = [check(f) for f in sorted(reasons)]
    return {f: (None if f in hidden else v) for f, v in values.items()}, report


def _partner(audit: Audit, exposed: str, hidden: set[str], values: dict[str, int],
             protection: int) -> str | None:
    """The published figure to hide next: one in a relation with ``exposed`` (or, failing
    that, with the hidden figures it is related to, and so on outwards), the smallest that
    is at least the protection level (it can give or take that much), zeros last (they give
    nothing upwards)."""
    matrices = [m for m in (audit.a_eq, audit.a_ub) if m is not None]
    figures = list(audit.index)

    def related(targets: set[str]) -> set[str]:
        columns = [audit.index[t] for t in targets]
        found = set()
        for matrix in matrices:
            rows = np.nonzero(matrix[:, columns].any(axis=1))[0]
            found |= {figures[j] for j in np.nonzero(matrix[rows].any(axis=0))[0]}
        return found

    reached = {exposed}
    while True:
        around = related(reached)
        candidates = around - hidden
        if candidates:
            return min(candidates, key=lambda f: (values[f] < protection, values[f], f))
        if around <= reached:
            return None
        reached |= around
