"""Bulk import through the web (issue 23 item 10): check, confirm, progress; refusals."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from openpyxl import Workbook

from cases.casework.bulk_import import COLUMNS
from infra.wiring import Exchange
from tests.test_bulk_import import ALONE, CARTRIDGES, RIFLES, table
from tests.web.conftest import Browser, events


def upload(browser: Browser, data: bytes, name: str = "register.csv") -> Any:
    return browser.post("/cases/import", {"file": (io.BytesIO(data), name)},
                        content_type="multipart/form-data")


def hidden_content(page: str) -> str:
    found = re.search(r'<textarea name="content" hidden aria-hidden="true">(.*?)</textarea>',
                      page, re.S)
    assert found, "no confirmation form"
    return (found.group(1).replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<")
            .replace("&gt;", ">").replace("&amp;", "&"))


def test_an_analyst_checks_a_file_then_imports_it_as_one_batch(
        analyst: Browser, exchange: Exchange) -> None:
    before = events(exchange)
    checked = upload(analyst, table(RIFLES, CARTRIDGES, ALONE).encode())
    assert checked.status_code == 200, checked.text
    assert "importing it logs 2 cases" in checked.text and "Rifles at Kidira" in checked.text
    assert "KR-1 (+2)" in checked.text and events(exchange) == before  # nothing stored yet
    done = analyst.post("/cases/import/confirm", {"content": hidden_content(checked.text),
                                                  "name": "register.csv"})
    page = done.text  # the streamed page, whole
    assert done.status_code == 200 and "Imported 2 cases with 3 item lines." in page
    assert '<progress value="2" max="2">' in page and "Nothing was imported" not in page
    assert events(exchange) == before + 5
    listed = analyst.get("/cases/?q=KR-3").text
    assert "Rifles at Kidira" in listed  # indexed for search at once


def test_problems_are_listed_with_row_and_column_and_nothing_is_stored(
        analyst: Browser, exchange: Exchange) -> None:
    before = events(exchange)
    checked = upload(analyst, table(dict(RIFLES, quantity="2"),
                                    dict(ALONE, category="tanks")).encode())
    assert checked.status_code == 422 and "the file has 2 problems" in checked.text
    rows = re.findall(r"<tr><td>(\d+)</td><td><code>(\w+)</code></td><td>([^<]+)</td>",
                      checked.text)
    assert [(r, c) for r, c, _ in rows] == [("2", "serial"), ("3", "category")]
    assert 'name="content"' not in checked.text and events(exchange) == before


def test_a_tampered_confirmation_is_checked_again(analyst: Browser, exchange: Exchange) -> None:
    before = events(exchange)
    refused = analyst.post("/cases/import/confirm", {
        "content": table(dict(ALONE, quantity="-4")), "name": "x.csv"})
    assert refused.status_code == 422 and "quantity" in refused.text
    assert events(exchange) == before


def test_bad_files_get_a_message_and_keep_the_form(analyst: Browser) -> None:
    empty = analyst.post("/cases/import", {}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "Choose the file to import." in empty.text
    latin = upload(analyst, "title\nFusils saisis à Kidira\n".encode("latin-1"))
    assert latin.status_code == 422 and "not UTF-8 text" in latin.text
    fake = upload(analyst, b"PK\x03\x04 not a workbook", "register.xlsx")
    assert fake.status_code == 422 and "not a readable Excel workbook" in fake.text


def test_an_excel_workbook_is_read_as_the_csv_template(analyst: Browser) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append([{"title": "Pistols at Rosso", "category": "small_arms", "quantity": 4,
                   "serial": "P-1\nP-2"}.get(c) for c in COLUMNS])
    data = io.BytesIO()
    book.save(data)
    checked = upload(analyst, data.getvalue(), "register.xlsx")
    assert checked.status_code == 200, checked.text
    assert "Pistols at Rosso" in checked.text and "P-1 (+1)" in checked.text


def test_only_analysts_reach_the_import(app: Flask, people: dict) -> None:
    reviewer = Browser(app.test_client())
    assert reviewer.login("fra.reviewer").status_code == 302
    assert reviewer.get("/cases/import").status_code == 403
    assert upload(reviewer, table(ALONE).encode()).status_code == 403
    assert reviewer.post("/cases/import/confirm", {"content": table(ALONE)}).status_code == 403


def test_a_forged_confirmation_without_the_csrf_token_is_refused(
        analyst: Browser, exchange: Exchange) -> None:
    before = events(exchange)
    forged = analyst.post("/cases/import/confirm", {"content": table(ALONE)}, csrf=False)
    assert forged.status_code == 400 and events(exchange) == before


def test_the_start_page_explains_every_column_in_the_users_language(analyst: Browser) -> None:
    english = analyst.get("/cases/import").text
    assert "<code>marking_condition</code>" in english and "erased (Erased)" in english
    assert analyst.post("/language", {"lang": "fr"}).status_code == 302
    french = analyst.get("/cases/import").text
    assert "small_arms (Armes légères)" in french and "Importer des dossiers" in french


def test_the_template_is_a_download(analyst: Browser) -> None:
    response = analyst.get("/cases/import/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.text.startswith("case,title,")
