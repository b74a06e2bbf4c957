"""The French catalog covers every string the code and templates mark, and is compiled."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).parents[2] / "web" / "translations"


def test_french_catalog_translates_every_marked_string() -> None:
    template = read_po((TRANSLATIONS / "messages.pot").open("rb"))
    french = read_po((TRANSLATIONS / "fr/LC_MESSAGES/messages.po").open("rb"))
    missing = [m.id for m in template if m.id and not (french.get(m.id) and
                                                       french.get(m.id).string)]
    fuzzy = [m.id for m in french if m.id and m.fuzzy]
    assert missing == [] and fuzzy == []


def test_compiled_french_catalog_matches_its_source() -> None:
    source = read_po((TRANSLATIONS / "fr/LC_MESSAGES/messages.po").open("rb"))
    compiled = read_mo((TRANSLATIONS / "fr/LC_MESSAGES/messages.mo").open("rb"))
    def flat(text: object) -> tuple[str, ...]:
        return (text,) if isinstance(text, str) else tuple(text)  # type: ignore[arg-type]

    def pairs(catalog: object) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
        return {(flat(m.id), flat(m.string))
                for m in catalog if m.id}  # type: ignore[attr-defined]

    assert pairs(source) == pairs(compiled)
