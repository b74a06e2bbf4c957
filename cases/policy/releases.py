"""Frozen releases of the tier-1 tables: one per closed year, published by the secretariat.

A release is an event holding the published counts (already disclosure-controlled; counts
only). A correction of a year already released is refused when a figure published in both
would move by less than k: the difference of two releases must not reveal a small cell.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError

from cases.identity.directory import NAMESPACE
from cases.kernel.errors import Conflict, Forbidden, InvalidInput
from cases.kernel.ledger import Actor, Ledger, SignedAggregate, stored_as
from cases.kernel.viewer import SECRETARIAT, Viewer

Figures = dict[str, int | None]
# The Arms Trade Treaty entered into force on 24 December 2014: no earlier year has cases.
FIRST_YEAR = 2014  # "table|row|column" -> count, None when suppressed


def release_id(year: int) -> UUID:
    return uuid5(NAMESPACE, f"release:{year}")


@stored_as("cases.releases")
class Release(SignedAggregate):
    """Every release of one year's tables, the first and its corrections."""

    class Published(SignedAggregate.Created):
        year: int
        k: int
        min_reporters: int
        figures: dict[str, Any]

    def __init__(self, year: int, k: int, min_reporters: int, figures: Figures) -> None:
        self.year = year
        self.editions: list[dict[str, Any]] = [
            {"k": k, "min_reporters": min_reporters, "figures": dict(figures),
             "on": self.created_on}]

    @classmethod
    def publish(cls, actor: Actor, year: int, k: int, min_reporters: int,
                figures: Figures) -> Release:
        return cls._start(cls.Published, release_id(year), actor, year=year, k=k,
                          min_reporters=min_reporters, figures=figures)

    class Corrected(SignedAggregate.Event):
        k: int
        min_reporters: int
        figures: dict[str, Any]

        def apply(self, release: Release) -> None:
            release.editions.append({"k": self.k, "min_reporters": self.min_reporters,
                                     "figures": dict(self.figures), "on": self.timestamp})

    def correct(self, actor: Actor, k: int, min_reporters: int, figures: Figures) -> None:
        latest = self.editions[-1]["figures"]
        small = sorted(name for name, value in figures.items()
                       if value is not None and latest.get(name) is not None
                       and 0 < abs(value - latest[name]) < k)
        if small:
            raise Conflict("This correction would change %(count)s published figure(s) by "
                           "fewer than %(k)s cases (e.g. %(example)s): the two releases could "
                           "be compared to reveal a small cell.", count=len(small), k=k,
                           example=small[0].replace("|", " / "))
        if figures == latest:
            raise Conflict("Nothing changed since the last release of this year.")
        self._record(self.Corrected, actor, k=k, min_reporters=min_reporters, figures=figures)


class Releases:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def publish(self, viewer: Viewer, year: int, k: int, min_reporters: int,
                figures: Figures, this_year: int) -> Release:
        """Publishes (or corrects) the release of a closed year."""
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
            release = Release.publish(viewer.actor, year, k, min_reporters, figures)
        else:
            release = existing
            release.correct(viewer.actor, k, min_reporters, figures)
        self.ledger.save_all(release)
        return release

    def all(self) -> list[Release]:
        ids = self.ledger.ids_created_by(Release.Published)
        return sorted((self.ledger.repository.get(i) for i in ids), key=lambda r: r.year)
