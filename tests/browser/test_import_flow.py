"""In a real browser, in English and French: an analyst checks a spreadsheet of records, reads
every problem with its row and column, imports the corrected file with its progress, and finds
an imported serial; another state finds nothing. axe checks each page on the way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.demo import REGISTER, register_csv
from tests.browser.test_accessibility import violations
from tests.browser.test_analyst_flow import sign_in, sign_out
from tests.test_bulk_import import table

pytestmark = pytest.mark.browser

WORDS = {"en": ("Check the file", "problems", "Import 3 cases", "Imported 3 cases"),
         "fr": ("Vérifier le fichier", "problèmes", "Importer 3 dossiers",
                "3 dossiers importés")}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_register_is_checked_then_imported_in_one_batch(live_server: str, browser: Any,
                                                          tmp_path: Path,
                                                          language: str) -> None:
    check, problems, confirm, done = WORDS[language]
    bad, good = tmp_path / "register-bad.csv", tmp_path / "register.csv"
    bad.write_text(table(dict(REGISTER[0], quantity="2"), *REGISTER[1:3],
                         dict(REGISTER[3], category="tanks")))
    good.write_text(register_csv())
    page = browser.new_page()
    sign_in(page, live_server, "fra.analyst")
    page.select_option("#lang", language)
    page.click("form.lang button")
    page.goto(f"{live_server}/cases/import")
    page.set_input_files("#f-file", str(bad))
    page.click(f"button:has-text('{check}')")
    rows = page.locator("#problems tbody tr")
    assert rows.count() == 2 and problems in page.inner_text("p.error")
    assert [rows.nth(n).locator("td").nth(1).inner_text() for n in range(2)] == \
        ["serial", "category"]
    assert violations(page) == []
    page.goto(f"{live_server}/cases/import")
    page.set_input_files("#f-file", str(good))
    page.click(f"button:has-text('{check}')")
    assert page.locator("#planned tbody tr").count() == 3 and violations(page) == []
    page.click(f"button:has-text('{confirm}')")
    page.wait_for_selector("p.done", timeout=60_000)
    assert done in page.inner_text("p.done")
    assert page.locator(".import-progress .step progress").last.is_visible()
    assert violations(page) == []
    page.goto(f"{live_server}/cases/?q=CP9-118207")
    assert "Le Perthus" in page.inner_text("main")
    sign_out(page, live_server)
    sign_in(page, live_server, "deu.analyst")
    page.goto(f"{live_server}/cases/?q=CP9-118207")
    assert "Le Perthus" not in page.inner_text("main")
    page.close()
