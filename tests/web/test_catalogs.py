"""Every catalog covers every string the code and templates mark, keeps its placeholders, is
compiled; the template messages.pot is what extraction from the code gives today."""

from __future__ import annotations

import ast
import itertools
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale

from web.messages import translate

WEB = Path(__file__).parents[2] / "web"
TRANSLATIONS = WEB / "translations"
LANGUAGES = ["fr", "es"]
# The keywords of the extraction command documented in web/babel.cfg.
EXTRACT = ["extract", "-F", str(WEB / "babel.cfg"), "-k", "_l", "-k", "N_", "--sort-output"]

MessageId = str | tuple[str, ...]
_PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


def _key(message: Message) -> MessageId:
    return message.id if isinstance(message.id, str) else tuple(message.id)


def _forms(text: object) -> tuple[str, ...]:
    return (text,) if isinstance(text, str) else tuple(text or ())  # type: ignore[arg-type]


def _load(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def _catalog(lang: str) -> Catalog:
    return _load(TRANSLATIONS / lang / "LC_MESSAGES/messages.po")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[MessageId]:
    """The msgids that pybabel extraction finds in the code and templates right now."""
    output = tmp_path_factory.mktemp("extract") / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", *EXTRACT, "-o", str(output), str(WEB)])
    return {_key(m) for m in _load(output) if m.id}


def test_the_template_is_up_to_date_with_the_code(extracted: set[MessageId]) -> None:
    template = {_key(m) for m in _load(TRANSLATIONS / "messages.pot") if m.id}
    assert extracted, "extraction found no message at all"
    assert sorted(map(str, extracted - template)) == [], "not extracted into messages.pot"
    assert sorted(map(str, template - extracted)) == [], "in messages.pot, gone from the code"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_translates_every_marked_string(lang: str, extracted: set[MessageId]) -> None:
    catalog = _catalog(lang)
    translated = {_key(m) for m in catalog
                  if m.id and _forms(m.string) and all(_forms(m.string))}
    assert sorted(map(str, extracted - translated)) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_has_no_fuzzy_entry(lang: str) -> None:
    assert [m.id for m in _catalog(lang) if m.id and m.fuzzy] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_keeps_the_placeholders_of_each_message(lang: str) -> None:
    catalog = _catalog(lang)
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = _forms(message.id)
        for n, form in enumerate(_forms(message.string)):
            source = ids[min(n, len(ids) - 1)]  # form 0: msgid, the others: msgid_plural
            if form and Counter(_PLACEHOLDER.findall(form)) != Counter(
                    _PLACEHOLDER.findall(source)):
                wrong.append((source, form))
            if form and form.count("%(") != source.count("%("):
                wrong.append((source, form))
    assert wrong == []
    assert [(m.id, errors) for m, errors in catalog.check()] == []  # babel's own checkers


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalog_matches_its_source(lang: str) -> None:
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    with (folder / "messages.mo").open("rb") as f:
        compiled = read_mo(f)

    def pairs(catalog: Catalog) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
        return {(_forms(m.id), _forms(m.string)) for m in catalog if m.id}

    assert pairs(_catalog(lang)) == pairs(compiled)


ERRORS = {"InvalidInput", "NotFound", "Forbidden", "Conflict", "AuthenticationFailed"}
CLI_ONLY = {"bundle.py"}  # bundles are read by `divex audit verify`, which speaks English
# Values tried in each {hole} of a refusal built with values, until the message is translated.
SAMPLES = ("1", "FRA", "suspected", "item", "x", "2025-01-31", "12:30", "a, b")


def domain_refusals() -> dict[str, tuple[ast.Constant | ast.JoinedStr, str]]:
    """Every refusal of cases/ written as a string literal or f-string: source -> node, where."""
    found: dict[str, tuple[ast.Constant | ast.JoinedStr, str]] = {}
    for path in sorted((WEB.parent / "cases").rglob("*.py")):
        if path.name in CLI_ONLY:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ERRORS and node.args
                    and isinstance(node.args[0], ast.Constant | ast.JoinedStr)):
                found[ast.unparse(node.args[0])] = (node.args[0], f"{path.name}:{node.lineno}")
    return found


def examples(message: ast.Constant | ast.JoinedStr) -> Iterator[str]:
    """The message itself, or the f-string with every combination of sample values."""
    if isinstance(message, ast.Constant):
        yield message.value
        return
    parts = [v.value if isinstance(v, ast.Constant) else None for v in message.values]
    for values in itertools.product(SAMPLES, repeat=parts.count(None)):
        filling = iter(values)
        yield "".join(p if p is not None else next(filling) for p in parts)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_refusal_of_the_domain_is_translated(app: Flask, lang: str) -> None:
    """Plain refusals by their own text; refusals with values by a pattern of web/messages.py
    that some sample values fit (a refusal no sample fits fails here: add a sample)."""
    refusals = domain_refusals()
    assert sum(isinstance(n, ast.JoinedStr) for n, _ in refusals.values()) > 40, \
        "the scan found too few refusals with values to be right"
    with app.test_request_context(), force_locale(lang):
        untranslated = [f"{where}: {source}" for source, (node, where) in refusals.items()
                        if not any(translate(m) != m for m in examples(node))]
    assert untranslated == []
