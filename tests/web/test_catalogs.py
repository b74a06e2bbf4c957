"""Every catalog covers every string the code and templates mark, keeps its placeholders, is
compiled; the template messages.pot is what extraction from the code gives today. Every refusal
is one literal template, extracted by its error class's name, and translated."""

from __future__ import annotations

import ast
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

from cases.kernel.errors import Conflict, InvalidInput, NotFound
from web.messages import LABELLED, refusal

ROOT = Path(__file__).parents[2]
WEB = ROOT / "web"
TRANSLATIONS = WEB / "translations"
LANGUAGES = ["fr", "es"]
# The extraction command documented in web/babel.cfg: its keywords and its folders.
EXTRACT = ["extract", "-F", str(WEB / "babel.cfg"), "-k", "_l", "-k", "N_", "-k", "InvalidInput",
           "-k", "NotFound", "-k", "Forbidden", "-k", "Conflict", "-k", "AuthenticationFailed",
           "-k", "Busy", "-k", "DivexError", "-k", "BadRequest", "--sort-output"]
EXTRACTED_FROM = [str(ROOT / "web"), str(ROOT / "cases"), str(ROOT / "projections")]

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
    CommandLineInterface().run(["pybabel", "-q", *EXTRACT, "-o", str(output), *EXTRACTED_FROM])
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


# Every class of the refusal family: extraction finds a refusal's template by its class's name.
ERRORS = ["InvalidInput", "NotFound", "Forbidden", "Conflict", "AuthenticationFailed", "Busy",
          "DivexError", "BadRequest"]
REFUSING = ["cases", "projections", "web"]  # the folders whose refusals reach a user
# Bundles are read by `divex audit verify`, which speaks English (web/babel.cfg ignores it).
CLI_ONLY = {"cases/audit/bundle.py"}
NOT_VALUES = {"field", "retry_after"}  # keywords of a refusal that fill no hole


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def refusals() -> Iterator[tuple[str, ast.Call]]:
    """Every call of an error class in the folders that refuse: where, call."""
    for folder in REFUSING:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _called(node) in ERRORS:
                    yield f"{path.relative_to(ROOT).as_posix()}:{node.lineno}", node


def template_of(call: ast.Call) -> str | None:
    """The refusal's template if it is one string literal (what pybabel can extract)."""
    first = call.args[0] if call.args else None
    literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
    return first.value if literal else None  # type: ignore[union-attr]


def test_every_refusal_is_one_literal_template_with_its_values() -> None:
    """An f-string, a variable or a conditional as a refusal would never be translated; and a
    hole without its value (or a value without its hole) is a mistake in one or the other."""
    found = list(refusals())
    assert len(found) > 200, "the scan found too few refusals to be right"
    not_literal = [f"{where}: {ast.unparse(call)}" for where, call in found
                   if template_of(call) is None]
    assert not_literal == []
    mismatched = []
    for where, call in found:
        holes = {h.split("(")[1].split(")")[0] for h in _PLACEHOLDER.findall(template_of(call))}
        values = {k.arg for k in call.keywords if k.arg is not None} - NOT_VALUES
        spread = any(k.arg is None for k in call.keywords)  # **params: not checked here
        if holes != values and not spread:
            mismatched.append(f"{where}: holes {sorted(holes)}, values {sorted(values)}")
    assert mismatched == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_refusal_of_the_domain_is_translated(lang: str) -> None:
    """Each template has a translation, not fuzzy, with the same holes."""
    catalog = _catalog(lang)
    wrong = []
    for where, call in refusals():
        template = template_of(call)
        if template is None or where.split(":")[0] in CLI_ONLY:
            continue
        message = catalog.get(template)
        if message is None or not message.string or message.fuzzy:
            wrong.append(f"{where}: untranslated: {template}")
        elif Counter(_PLACEHOLDER.findall(message.string)) != Counter(
                _PLACEHOLDER.findall(template)):
            wrong.append(f"{where}: other holes: {message.string}")
    assert wrong == []


def test_a_refusal_shows_code_words_translated_and_codes_and_names_as_given(
        app: Flask) -> None:
    with app.test_request_context(), force_locale("fr"):
        status = refusal(Conflict("A case in status %(old)s cannot become %(new)s.",
                                  old="suspected", new="closed"))
        code = refusal(InvalidInput("%(code)s cannot receive cases.", code="FRA"))
        name = refusal(NotFound("No user named '%(name)s'.", name="jean_dupont"))
    assert status == "Un dossier au statut « Soupçonné » ne peut pas passer à « Clos »."
    assert code == "FRA ne peut pas recevoir de dossiers."
    assert name == "Aucun utilisateur nommé « jean_dupont »."
    assert {"code", "name", "choices"}.isdisjoint(LABELLED)


def signed_event_names() -> list[str]:
    """Every kind of event the log can hold, as the audit log names it ("User.Added")."""
    import importlib
    import inspect
    import pkgutil

    import cases
    from cases.kernel.ledger import SignedAggregate

    names = []
    for module in pkgutil.walk_packages(cases.__path__, "cases."):
        for record in vars(importlib.import_module(module.name)).values():
            if inspect.isclass(record) and issubclass(record, SignedAggregate) \
                    and record.__module__ == module.name:
                names += [f"{record.__name__}.{name}" for name, kind in vars(record).items()
                          if inspect.isclass(kind) and issubclass(kind, SignedAggregate.Event)
                          and name not in ("Event", "Created")]
    return names


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_kind_of_event_has_a_name_in_each_language(app: Flask, lang: str) -> None:
    """Issue 23 item 7: the audit log shows no raw event name in any language."""
    from web.labels import event_label

    names = signed_event_names()
    assert "User.RecoveryCodesIssued" in names and len(names) > 50
    with app.test_request_context(), force_locale(lang):
        raw = [n for n in names if event_label(n) == n]
        labels = Counter(event_label(n) for n in names)
    assert raw == []
    if lang != "en":
        with app.test_request_context(), force_locale("en"):
            untranslated = [n for n in names if labels.get(event_label(n))]
        assert untranslated == []


def test_regions_are_named_in_the_users_language(app: Flask) -> None:
    """Issue 23 item 7: "North america" was the English code word, humanised, on every page."""
    from cases.policy.facts import region_of
    from web.labels import label

    assert region_of("MEX") == "North America" and region_of("PER") == "South America"
    names = {}
    for lang in ("en", *LANGUAGES):
        with app.test_request_context(), force_locale(lang):
            names[lang] = (label(region_of("MEX")), label(region_of("PER")))
    assert names == {"en": ("North America", "South America"),
                     "fr": ("Amérique du Nord", "Amérique du Sud"),
                     "es": ("América del Norte", "Sudamérica")}
