"""A user who picks Spanish gets the case list, a case page and the summaries in Spanish."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.web.conftest import ACTOR, ITEM, LEG, SUMMARY, Browser

SPANISH = Path(__file__).parents[2] / "web/translations/es/LC_MESSAGES/messages.po"
_HEADING = re.compile(r"<(title|h1|h2|h3|caption|th|dt|label|button)\b[^>]*>(.*?)</\1>",
                      re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def headings(page: str) -> set[str]:
    """The text of the page's titles, headings, table headers, labels and buttons."""
    texts = {" ".join(html.unescape(_TAG.sub(" ", inner)).split())
             for _, inner in _HEADING.findall(page)}
    return texts - {""}


def english_msgids() -> set[str]:
    """The English source of every message whose Spanish translation reads differently."""
    with SPANISH.open("rb") as f:
        catalog = read_po(f)
    found = set()
    for message in catalog:
        ids = (message.id,) if isinstance(message.id, str) else message.id
        forms = (message.string,) if isinstance(message.string, str) else message.string
        found |= {i for i in ids if i and i not in forms}
    return found


def test_spanish_pages_show_spanish_headings(analyst: Browser, exchange: Exchange,
                                             people: dict[str, Viewer]) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    for version, (kind, part) in enumerate((("item", ITEM), ("actor", ACTOR), ("leg", LEG)), 1):
        exchange.cases.add_part(fra, case_id, version, kind, part)
    assert analyst.post("/language", {"lang": "es", "next": "/cases/"}).status_code == 302

    expected = {
        "/cases/": ["Casos que su Estado puede leer", "Registrar un nuevo caso", "Situación",
                    "Cerrar sesión", "Solicitudes de rastreo", "Puntos de contacto"],
        f"/cases/{case_id}": ["Difusión", "Nacional — solo su Estado", "Punto de desvío",
                              "En la entrega o después", "Artículos", "Armas pequeñas",
                              "Actores", "Intermediario", "Ruta", "Marítimo", "Historial",
                              "Caso registrado", "Elemento añadido",
                              "Enviar una solicitud de rastreo"],
        "/summaries/": ["Síntesis de políticas (nivel 1)", "Publicaciones",
                        "Todavía no hay publicaciones.", "subgrupo de trabajo del WGETI"],
    }
    english = english_msgids()
    for path, spanish in expected.items():
        response = analyst.get(path)
        assert response.status_code == 200, path
        page = response.text
        assert '<html lang="es">' in page, path
        for text in spanish:
            assert text in page, (path, text)
        shown = headings(page)
        assert shown, path
        assert sorted(shown & english) == [], path


def test_the_chosen_language_is_kept_with_the_user(app: Flask, people: dict[str, Viewer]
                                                    ) -> None:
    """Issue 23 item 7: a language chosen once follows the user to another browser."""
    first = Browser(app.test_client())
    assert first.login("fra.analyst").status_code == 302
    assert first.post("/language", {"lang": "es", "next": "/cases/"}).status_code == 302
    elsewhere = Browser(app.test_client())
    assert elsewhere.login("fra.analyst").status_code == 302
    assert '<html lang="es">' in elsewhere.get("/cases/").text
    other_user = Browser(app.test_client())
    assert other_user.login("deu.analyst").status_code == 302
    assert '<html lang="en">' in other_user.get("/cases/").text


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_moments_are_written_one_way_with_their_time_zone(
        app: Flask, exchange: Exchange, people: dict[str, Viewer], lang: str) -> None:
    """Issue 23 item 7: dates appeared in three formats on one page, US-style in English."""
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    browser = Browser(app.test_client())
    assert browser.login("fra.analyst").status_code == 302
    browser.post("/language", {"lang": lang, "next": "/cases/"})
    page = html.unescape(browser.get(f"/cases/{case_id}").text)
    moments = re.findall(r"\d{1,2} \w+\.? \d{4}, \d{2}:\d{2} UTC", page)
    assert moments, page
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\d{4}-\d{2}-\d{2} \d{2}:\d{2}", page)
