"""The terms a case is found by, and a search box's text read as required terms.

A term is a namespaced string, never stored: only its blind token is (`crypto.searchkey`).
- ``w:<word>``: a word of the title, narrative, evidence notes, actor names, route notes and
  markings, case-folded and accent-folded (``Fusil`` and ``fusil`` and ``fúsil`` are one);
- ``c:<CODE>``: a marking written as a code: upper case, without spaces, dashes, dots or other
  separators (``kr 2291-7734`` is ``KR22917734``); serials, lots and headstamps also by every
  prefix of at least `PREFIX_MIN` characters, so a partial serial finds the full one;
- ``f:<fact>:<value>``: a filter (Art. 2(1) category, point of diversion, concerned state),
  matched only through the filters, never by the words typed.
Country codes of the content are words too, with their names in English, French and Spanish.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pycountry
from babel import Locale

from cases.casework.content import lines_of
from cases.kernel.errors import InvalidInput

PREFIX_MIN = 4  # shortest serial prefix indexed (as CAR's iTrace allows partial serials)
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
LANGUAGES = ("en", "fr", "es")  # the UI's languages: a country is found by its name in each

_SEPARATORS = re.compile(r"[\W_]+")
CODED = ("serial", "lot", "headstamp")  # markings indexed as codes with their prefixes
MARKED = ("make", "model", "calibre", "import_marking")  # as words and as one code


def fold(text: str) -> str:
    """Case-folded, accents removed (NFKD, combining marks dropped).

    The marks are looked for among the text's distinct characters, then dropped in one
    `str.translate`: testing every character made the terms of a long case cost ~20 ms per
    100 KB, on every change of it."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return decomposed.translate({ord(c): None for c in set(decomposed)
                                 if unicodedata.combining(c)})


def words(text: Any) -> list[str]:
    """The folded words of a text, in order; a word has two characters or more."""
    return [w for w in _SEPARATORS.split(fold(str(text or ""))) if len(w) > 1]


def code(text: Any) -> str:
    """A marking as a code: folded, upper case, letters and digits only."""
    return "".join(_SEPARATORS.split(fold(str(text or "")))).upper()


@cache
def _country_words(alpha_3: str) -> frozenset[str]:
    found = pycountry.countries.get(alpha_3=alpha_3)
    names = [alpha_3]
    if found is not None:
        names += [Locale.parse(lang).territories.get(found.alpha_2, "") for lang in LANGUAGES]
    return frozenset(w for name in names for w in words(name))


def _words(texts: Iterable[Any]) -> set[str]:
    return {f"w:{w}" for text in texts for w in words(text)}


def _codes(value: Any, prefixes: bool) -> set[str]:
    whole = code(value)
    if not whole:
        return set()
    cut = range(PREFIX_MIN, len(whole)) if prefixes else ()
    return {f"c:{whole}", *(f"c:{whole[:n]}" for n in cut)}


def _countries(codes: Iterable[Any]) -> set[str]:
    return {f"w:{w}" for c in codes if c for w in _country_words(str(c).upper())}


def part_terms(kind: str, part: dict[str, Any]) -> set[str]:
    """The terms of one item, actor, route leg or evidence note."""
    if kind == "item":
        found = _words(part.get(k) for k in (*MARKED, *CODED))
        for name in MARKED:
            found |= _codes(part.get(name), prefixes=False)
        for name in CODED:  # a serial list holds one serial per line
            for value in lines_of(str(part.get(name) or "")):
                found |= _codes(value, prefixes=True)
        return found | _countries([part.get("country_of_manufacture")])
    if kind == "actor":
        return _words([part.get("name")]) | _countries([part.get("country")])
    if kind == "leg":
        return _words([part.get("notes")]) | _countries([part.get("origin"),
                                                           part.get("destination")])
    return _words([part.get("text")])


def case_terms(view: Any) -> set[str]:
    """Every term of a case as its reader opened it (a `CaseView`), filters included."""
    summary = view.summary
    found = _words([summary.get("title"), summary.get("narrative"), summary.get("found_at")])
    found |= {f"f:category:{i['category']}" for i in view.items.values() if i.get("category")}
    found |= {f"f:concerned:{c}" for c in (summary.get("concerned") or {}).values() if c}
    if summary.get("point_of_diversion"):
        found.add(f"f:point_of_diversion:{summary['point_of_diversion']}")
    for kind, parts in (("item", view.items.values()), ("actor", view.actors.values()),
                        ("leg", view.legs.values()), ("note", view.notes)):
        for part in parts:
            found |= part_terms(kind, part)
    return found


@dataclass(frozen=True)
class Query:
    """What a search asks: each of ``terms`` must match (one of its alternatives); ``whole``,
    the whole text as one code, matches in place of all of them (``kr 2291`` is a serial's
    start); every filter term must match."""

    terms: tuple[frozenset[str], ...] = ()
    whole: str = ""
    filters: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms or self.filters)

    def matched_by(self, found: set[str]) -> bool:
        """Whether a part's or case's terms match every term (filters aside)."""
        return bool(self.terms) and (self.whole in found or all(t & found for t in self.terms))


def read_query(text: str, filters: dict[str, str] | None = None) -> Query:
    """The text typed in the search box, with the filters chosen. Refuses what no search can
    be made of; an empty text with no filter is no search (an empty `Query`)."""
    text = text or ""
    if "\x00" in text or any(unicodedata.category(c) == "Cc" for c in text):
        raise InvalidInput("The search cannot contain control characters.", field="q")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput("At most %(limit)s characters.", field="q", limit=MAX_QUERY_CHARS)
    typed = list(dict.fromkeys(words(text)))
    if len(typed) > MAX_QUERY_WORDS:
        raise InvalidInput("Search with at most %(limit)s words.", field="q",
                           limit=MAX_QUERY_WORDS)
    if text.strip() and not typed:
        raise InvalidInput("Type a word, name or number of at least two letters or digits.",
                           field="q")
    whole = code(text)
    return Query(
        terms=tuple(frozenset({f"w:{w}", f"c:{w.upper()}"}) for w in typed),
        whole=f"c:{whole}" if len(typed) > 1 and len(whole) >= PREFIX_MIN else "",
        filters=tuple(f"f:{fact}:{value}" for fact, value in sorted((filters or {}).items())
                      if value))
