"""Searching the case index by blind tokens, and what each state has left to index.

The tokens come from a `cases.search` service in a request of the state's user; here they are
opaque bytes matched against the state's rows of the index tables, joined to the state's
reader rows, so a result is always a case the state reads now, whatever rows lag behind.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    intersect,
    literal,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, array

from cases.search.index import search_cases, search_token_sets, search_tokens
from cases.search.search_service import TokenMatch

from .case_index import (
    CaseFilter,
    CaseIndexView,
    CaseOrder,
    CaseRow,
    case_index,
    case_readers,
    chosen_by,
)


class CaseSearchView:
    """Queries over the case index and the search index together."""

    def __init__(self, index: CaseIndexView) -> None:
        self.index = index
        self.sizes = KeptSizes()

    def search_for(self, state: str, where: CaseFilter, match: TokenMatch, offset: int = 0,
                   limit: int = 20, order: CaseOrder | None = None, exact: bool = False
                   ) -> tuple[list[CaseRow], int | None]:
        """A page of the cases the state reads that match, in ``order`` or else most terms
        matched first, then latest change; and how many match.

        Unless ``exact`` or an ``order`` is asked for, a search whose every word and filter
        is common (more than `COMMON` cases each) lists the latest changes first, and does
        not count them (None) while it finds a next page among the `LOOKED_AT` latest:
        ranking and counting all matches of a word in a third of 100,000 cases took ~90 ms,
        a page of the latest ones a few. Past them it counts, intersecting the words'
        cases (2-4 times quicker than ranking them). On PostgreSQL, several common words
        (or a word and a filter) that the latest changes may not hold a page of, and
        found together in `FEW` cases at most, are counted and listed from those cases
        (`_few_of_sets`)."""
        r = case_readers.c
        chosen = chosen_by(state, where)
        with self.index.transaction(commit=False) as session:
            counted = self.sizes.of(session, state, match)
            sizes = counted[:len(_groups(match))]
            if counted[len(sizes):] == [0]:  # the whole text is in no case: not looked for
                match = replace(match, codes={c: n for c, n in match.codes.items()
                                              if n != TokenMatch.WHOLE})
            common = order is None and not exact and bool(sizes) and min(sizes) > COMMON
            named = None
            if common:
                few = (lambda: _few_of_sets(session, state, match)) if len(sizes) > 1 \
                    and session.get_bind().dialect.name == "postgresql" else None
                latest, named = _latest_page(session, state, where, match,
                                             offset + limit + 1, few)
                if len(latest) > offset + limit:
                    return self.index.rows(session, latest[offset:offset + limit]), None
            if named is not None:
                # One array parameter, not one per case (up to `FEW`), unnested: given
                # as `= ANY(array)`, PostgreSQL walked the state's readers in order of
                # change and tested each (21 ms at 100,000 cases, against 5 ms for a
                # lookup of each named case and a sort).
                named_ids = select(func.unnest(bindparam("named", named, type_=ARRAY(String))))
                joined, chosen = case_readers, and_(chosen, r.case_id.in_(named_ids))
            else:
                found = _all_of(session, state, match) if common else _matching(
                    state, match, _candidates(session, state, match, sizes))
                joined = case_readers.join(found, found.c.case_id == r.case_id)
            # The total comes with the page (a window count): matching a common word in
            # 100,000 cases cost ~90 ms, and a separate count matched it twice.
            page = session.execute(select(r.case_id, func.count().over().label("total"))
                                   .select_from(joined).where(chosen)
                                   .order_by(*(order.clauses() if order else (
                                       *(() if common else (found.c.rank.desc(),)),
                                       r.updated.desc(), r.case_id.desc())))
                                   .offset(offset).limit(limit)).all()
            total = page[0].total if page else 0 if not offset else session.execute(
                select(func.count()).select_from(joined).where(chosen)).scalar() or 0
            rows = self.index.rows(session, [row.case_id for row in page])
        return rows, int(total)

    def unindexed(self, state: str, key_version: int, limit: int,
                  among: list[str] | None = None) -> tuple[list[str], int]:
        """Cases the state reads (not shredded; of ``among`` only, if given) whose search
        rows are missing or older than the case or the state's search key: up to ``limit``
        of them, latest change first, and how many in all."""
        r = case_readers.c
        waiting = waiting_to_index(state, key_version, among)
        with self.index.transaction(commit=False) as session:
            total = session.execute(select(func.count()).select_from(waiting.subquery())
                                    ).scalar() or 0
            ids = session.execute(waiting.order_by(r.updated.desc(), r.case_id.desc())
                                  .limit(limit)).scalars().all() if total else []
        return list(ids), int(total)


def waiting_to_index(state: str, key_version: int, among: list[str] | None = None) -> Any:
    """The state's readable cases (of ``among``, if given) whose search rows are missing or
    stale, with their last change: see `CaseSearchView.unindexed`.

    A lookup of the search row per reader row, whatever the statistics say. With statistics
    from when the index was small, PostgreSQL planned an outer join, and then NOT EXISTS as
    an anti-join, reading all the state's search rows once per reader row (17-43 s a batch
    at 100,000 cases). OFFSET 0 keeps the subquery from being turned into a join
    (PostgreSQL does not pull up a sublink with an OFFSET): 19 s -> 96 ms a batch, on the
    same stale statistics."""
    r, c, s = case_readers.c, case_index.c, search_cases.c
    indexed = select(literal(1)).where(
        s.state == r.state, s.case_id == r.case_id, s.version >= c.version,
        s.key_version == key_version).offset(0).exists()
    waiting = (select(r.case_id, r.updated)
               .join(case_index, c.case_id == r.case_id)
               .where(r.state == state, c.shredded_on.is_(None), ~indexed))
    return waiting if among is None else waiting.where(r.case_id.in_(among))

# A word or filter found in more of a state's cases is common; a search of common words
# looks for its page among the state's latest changed cases, that many at most.
COMMON = 1000
LOOKED_AT = 5000
SAMPLED = 500  # looked at first (`_latest_page`)
FEW = 2000  # matches of several common words named to the page query (`_few_of_sets`)
UNSURE = 3  # a sample that finds less than this many pages in proportion asks `few`


SIZES_KEPT_SECONDS = 60.0
SIZES_KEPT = 5000


class KeptSizes:
    """`_sizes` per state and set of tokens, kept by the process for a minute: a size only
    chooses how a search is run (its results are exact whatever it says), and counting
    them was a query of every search (2-5 ms at 100,000 cases). The whole text found in no
    case is counted again each time: it is then not looked for at all."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[Any, ...], tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, session: Any, state: str, match: TokenMatch) -> list[int]:
        keys = [(state, match.versions, frozenset(c for c, n in match.codes.items()
                                                  if n in numbers))
                for numbers in _counted(match)]
        now = time.monotonic()
        with self._lock:
            kept = [self._kept.get(key) for key in keys]
        if all(k is not None and k[0] > now and (k[1] or numbers != {TokenMatch.WHOLE})
               for k, numbers in zip(kept, _counted(match), strict=True)):
            return [k[1] for k in kept if k is not None]
        sizes = _sizes(session, state, match)
        with self._lock:
            for key, size in zip(keys, sizes, strict=True):
                self._kept[key] = (now + SIZES_KEPT_SECONDS, size)
                self._kept.move_to_end(key)
            while len(self._kept) > SIZES_KEPT:
                self._kept.popitem(last=False)
        return sizes


def _tokens_of(state: str, match: TokenMatch, numbers: set[int]) -> Any:
    """The state's token rows of the terms (or filters) ``numbers`` stand for."""
    t = search_tokens.c
    return select(t.case_id).where(
        t.state == state, t.key_version.in_(match.versions),
        t.token.in_([code for code, n in match.codes.items() if n in numbers]))


def _groups(match: TokenMatch) -> list[set[int]]:
    """The numbers of each term, then of each filter, of the match: each must match."""
    return [{n} for n in range(match.terms)] + \
        [{TokenMatch.WHOLE - 1 - n} for n in range(match.filters)]


def _counted(match: TokenMatch) -> list[set[int]]:
    """`_groups`, then the whole text if it is searched."""
    whole = [{TokenMatch.WHOLE}] if TokenMatch.WHOLE in match.codes.values() else []
    return _groups(match) + whole


def _sizes(session: Any, state: str, match: TokenMatch) -> list[int]:
    """In how many of the state's cases each of `_counted` is found, counted up to
    `COMMON` + 1 (one query)."""
    counts = [select(func.count()).select_from(
        _tokens_of(state, match, numbers).limit(COMMON + 1).subquery()).scalar_subquery()
        for numbers in _counted(match)]
    return list(session.execute(select(*counts)).one()) if counts else []


def _candidates(session: Any, state: str, match: TokenMatch, sizes: list[int]) -> Any:
    """The cases that can match: those of the rarest term or filter, or of the whole
    text. Ranking only those kept a rare name searched with two common words from
    grouping every case of the common ones (~180 ms at 100,000 cases).

    When the rarest is not common, its cases are read first and named in the ranking
    query: given them as a subquery, PostgreSQL estimated hundreds where there were two,
    and read every token of the common words to join them (127,000 rows, ~30 ms at
    100,000 cases) rather than look up each named case's tokens."""
    if len(sizes) < 2:
        return None
    rarest = _groups(match)[sizes.index(min(sizes))]
    if not rarest.isdisjoint(range(match.terms)) and TokenMatch.WHOLE in match.codes.values():
        rarest = rarest | {TokenMatch.WHOLE}
    cases = _tokens_of(state, match, rarest)
    if min(sizes) > COMMON:
        return cases
    return sorted(set(session.execute(cases).scalars()))


def _latest_page(session: Any, state: str, where: CaseFilter, match: TokenMatch,
                 wanted: int, few: Callable[[], list[str] | None] | None = None
                 ) -> tuple[list[str], list[str] | None]:
    """Up to ``wanted`` matching cases among the state's `LOOKED_AT` latest changed, latest
    first. The `SAMPLED` latest are looked at first; the others only if what was found
    there, in proportion, would reach ``wanted``: words each common but rarely together
    looked at all 5,000 cases for nothing (~40 ms at 100,000 cases) before being counted.

    Where the sample leaves it in doubt (in proportion, less than `UNSURE` times
    ``wanted``), ``few`` (if given) is asked for every match; the cases it names are
    returned beside those found, and nothing more is walked. Asked on every search of
    several words, it cost the words often together a few ms for nothing."""
    sampled = min(SAMPLED, LOOKED_AT)
    found = list(session.execute(_latest_matching(state, where, match, 0, sampled)
                                 .limit(wanted)).scalars())
    if len(found) >= wanted:
        return found, None
    likely = len(found) * LOOKED_AT >= wanted * sampled
    if few is not None and len(found) * LOOKED_AT < UNSURE * wanted * sampled:
        named = few()
        if named is not None:
            return found, named
    if not likely:
        return found, None
    if session.get_bind().dialect.name == "postgresql":
        # Its thousands of per-case lookups are estimated dear enough for PostgreSQL to
        # compile the query (JIT): ~8 ms of a ~70 ms walk at 100,000 cases, for nothing.
        session.execute(text("SET LOCAL jit = off"))
    return found + list(session.execute(
        _latest_matching(state, where, match, sampled, LOOKED_AT - sampled)
        .limit(wanted - len(found))).scalars()), None


def _latest_matching(state: str, where: CaseFilter, match: TokenMatch, start: int,
                     count: int) -> Any:
    """The matching cases among the state's ``count`` latest changed after the ``start``
    latest that the filter keeps, latest first. Each case is tested with a lookup per term
    (a subquery with LIMIT, which databases do not turn into a join over all the term's
    cases), so a page of a common word stops after a few dozen cases."""
    r = case_readers.c
    latest = (select(r.case_id, r.updated).where(chosen_by(state, where))
              .order_by(r.updated.desc(), r.case_id.desc()).offset(start).limit(count)
              .subquery())

    def has(numbers: set[int]) -> Any:
        return _tokens_of(state, match, numbers).where(
            search_tokens.c.case_id == latest.c.case_id).limit(1).scalar_subquery().isnot(None)

    return (select(latest.c.case_id).where(*_tests(match, has))
            .order_by(latest.c.updated.desc(), latest.c.case_id.desc()))


def _all_of(session: Any, state: str, match: TokenMatch) -> Any:
    """The state's cases whose tokens satisfy the match (as `_matching`, unranked), as an
    intersection of each term's and filter's cases: on PostgreSQL, by its GIN index of each
    case's token set (`search_token_sets`)."""
    if session.get_bind().dialect.name == "postgresql":
        return _all_of_sets(state, match)
    parts = [_tokens_of(state, match, {n}) for n in range(match.terms)]
    if len(parts) > 1:
        parts = [select(intersect(*parts).subquery().c.case_id)]
    if parts and TokenMatch.WHOLE in match.codes.values():
        parts = [select(union(parts[0], _tokens_of(state, match, {TokenMatch.WHOLE}))
                        .subquery().c.case_id)]
    parts += [_tokens_of(state, match, {TokenMatch.WHOLE - 1 - n})
              for n in range(match.filters)]
    return (intersect(*parts) if len(parts) > 1 else parts[0].distinct()).subquery("found")


def _all_of_sets(state: str, match: TokenMatch) -> Any:
    """`_all_of` on PostgreSQL: a token set holds one of each term's tokens (or one of the
    whole text's), and one of each filter's."""
    s = search_token_sets.c

    def holds(numbers: set[int]) -> Any:
        codes = [code for code, n in match.codes.items() if n in numbers]
        return s.tokens.overlap(cast(array(codes), ARRAY(BYTEA)))

    return (select(s.case_id).where(s.state == state, s.key_version.in_(match.versions),
                                    *_tests(match, holds)).subquery("found"))


def _few_of_sets(session: Any, state: str, match: TokenMatch) -> list[str] | None:
    """On PostgreSQL, the state's cases matching several common words (or a word and a
    filter), if there are `FEW` at most; None if more. Intersecting the GIN index's posting
    lists takes a few ms; looking for a page of words each common but rarely together among
    the latest changes read 5,000 cases for nothing (17-68 ms at 100,000 cases). Words often
    together are more than `FEW`: their page is among the latest changes."""
    ids = session.execute(select(_all_of_sets(state, match).c.case_id).limit(FEW + 1)
                          ).scalars().all()
    return None if len(ids) > FEW else list(ids)


def _tests(match: TokenMatch, holds: Callable[[set[int]], Any]) -> list[Any]:
    """What a case must satisfy, given ``holds`` (whether it has a token of the numbers):
    each filter, and each term or else the whole text."""
    tests = [holds({TokenMatch.WHOLE - 1 - n}) for n in range(match.filters)]
    if match.terms:
        terms = and_(*(holds({n}) for n in range(match.terms)))
        if TokenMatch.WHOLE in match.codes.values():
            terms = or_(terms, holds({TokenMatch.WHOLE}))
        tests.append(terms)
    return tests


def _matching(state: str, match: TokenMatch, among: Any = None) -> Any:
    """The state's cases whose tokens satisfy the match (of the cases ``among`` selects,
    if given), with how many tokens matched.

    Each token stands for a term (a number >= 0), the whole text (`WHOLE`) or a filter (a
    number below `WHOLE`); every term or the whole text, and every filter, must match."""
    t = search_tokens.c
    code = case(match.codes, value=t.token)
    terms = func.count(func.distinct(case((code >= 0, code))))
    filters = func.count(func.distinct(case((code < TokenMatch.WHOLE, code))))
    whole = func.max(case((code == TokenMatch.WHOLE, 1), else_=0))
    chosen = [t.state == state, t.key_version.in_(match.versions),
              t.token.in_(list(match.codes))]
    if among is not None:
        chosen.append(t.case_id.in_(among))
    return (select(t.case_id, func.count().label("rank"))
            .where(*chosen)
            .group_by(t.case_id)
            .having(or_(terms == match.terms, whole == 1), filters == match.filters)
            .subquery("found"))
