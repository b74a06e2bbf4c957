"""Frozen releases of the tier-1 tables: one per closed year, published by the secretariat.

A release is an event holding the published counts (already disclosure-controlled and
audited; counts only) with its audit report. Member states read releases only, never the
live tables. A correction is refused when it would publish a figure an earlier edition
suppressed or move one by fewer than k: the difference of two editions must not reveal a
small cell (projections.summaries suppresses such figures before it comes to that).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError

from cases.identity.directory import NAMESPACE
from cases.kernel.errors import Conflict, Forbidden, InvalidInput
from cases.kernel.ledger import Actor, Ledger, SignedAggregate, stored_as
from cases.kernel.viewer import SECRETARIAT, Viewer

Figures = dict[str, int | None]  # "table|row|column" -> count, None when suppressed
# The Arms Trade Treaty entered into force on 24 December 2014: no earlier year has cases.
FIRST_YEAR = 2014


def release_id(year: int) -> UUID:
    return uuid5(NAMESPACE, f"release:{year}")


@stored_as("cases.releases")
class Release(SignedAggregate):
    """Every release of one year's tables, the first and its corrections, each edition with
    the rules it obeyed and its audit report (which figures were suppressed, why, and the
    interval an attacker can derive for each)."""

    class Published(SignedAggregate.Created):
        """Before the audit (kept so that early releases stay readable)."""

        year: int
        k: int
        min_reporters: int
        figures: dict[str, Any]

    class Issued(SignedAggregate.Created):
        year: int
        rules: dict[str, Any]
        figures: dict[str, Any]
        audit: list[Any]

    def __init__(self, year: int, figures: Figures, k: int = 0, min_reporters: int = 0,
                 rules: dict[str, Any] | None = None, audit: list[Any] | None = None) -> None:
        self.year = year
        self.editions: list[dict[str, Any]] = [
            _edition(rules or {"k": k, "min_reporters": min_reporters}, figures, audit or [],
                     self.created_on)]

    @classmethod
    def publish(cls, actor: Actor, year: int, rules: dict[str, Any], figures: Figures,
                audit: list[Any]) -> Release:
        return cls._start(cls.Issued, release_id(year), actor, year=year, rules=rules,
                          figures=figures, audit=audit)

    class Corrected(SignedAggregate.Event):
        """Before the audit (kept so that early releases stay readable)."""

        k: int
        min_reporters: int
        figures: dict[str, Any]

        def apply(self, release: Release) -> None:
            release.editions.append(_edition({"k": self.k, "min_reporters": self.min_reporters},
                                             self.figures, [], self.timestamp))

    class Reissued(SignedAggregate.Event):
        rules: dict[str, Any]
        figures: dict[str, Any]
        audit: list[Any]

        def apply(self, release: Release) -> None:
            release.editions.append(_edition(self.rules, self.figures, self.audit,
                                             self.timestamp))

    def correct(self, actor: Actor, rules: dict[str, Any], figures: Figures,
                audit: list[Any]) -> None:
        """A new edition; refused if it would publish a figure an earlier edition suppressed,
        or move one by fewer than k cases (the two editions could be compared)."""
        k = int(rules["k"])
        hidden = {name for edition in self.editions
                  for name, value in edition["figures"].items() if value is None}
        latest = self.editions[-1]["figures"]
        small = sorted(name for name, value in figures.items()
                       if value is not None and (name in hidden or (
                           latest.get(name) is not None and 0 < abs(value - latest[name]) < k)))
        if small:
            raise Conflict("This correction would change %(count)s published figure(s) by "
                           "fewer than %(k)s cases or publish one suppressed before (e.g. "
                           "%(example)s): the two releases could be compared to reveal a small "
                           "cell.", count=len(small), k=k, example=small[0].replace("|", " / "))
        if figures == latest:
            raise Conflict("Nothing changed since the last release of this year.")
        self._record(self.Reissued, actor, rules=rules, figures=figures, audit=audit)


def _edition(rules: dict[str, Any], figures: Figures, audit: list[Any],
             on: Any) -> dict[str, Any]:
    return {"k": rules.get("k"), "min_reporters": rules.get("min_reporters"),
            "rules": dict(rules), "figures": dict(figures), "audit": list(audit), "on": on}


class Releases:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def latest(self, year: int) -> Figures | None:
        """The figures of the year's latest edition, None before its first release."""
        try:
            release: Release = self.ledger.repository.get(release_id(year))
        except AggregateNotFoundError:
            return None
        return dict(release.editions[-1]["figures"])

    def publish(self, viewer: Viewer, year: int, rules: dict[str, Any], figures: Figures,
                audit: list[Any], this_year: int) -> Release:
        """Publishes (or corrects) the release of a closed year, with its audit report."""
        if not viewer.has(SECRETARIAT):
            raise Forbidden("Only the secretariat publishes releases.")
        if year < FIRST_YEAR:
            raise InvalidInput("The first year to release is %(first)s, when the Arms Trade "
                               "Treaty entered into force.", field="year", first=FIRST_YEAR)
        if year >= this_year:
            raise InvalidInput("%(year)s is not closed yet: release a past year.", field="year",
                               year=year)
        try:
            existing: Release | None = self.ledger.repository.get(release_id(year))
        except AggregateNotFoundError:
            existing = None
        if existing is None:
            release = Release.publish(viewer.actor, year, rules, figures, audit)
        else:
            release = existing
            release.correct(viewer.actor, rules, figures, audit)
        self.ledger.save_all(release)
        return release

    def all(self) -> list[Release]:
        ids = {*self.ledger.ids_created_by(Release.Published),
               *self.ledger.ids_created_by(Release.Issued)}
        return sorted((self.ledger.repository.get(i) for i in ids), key=lambda r: r.year)
