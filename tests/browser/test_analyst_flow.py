"""In a real browser: an analyst logs a case with an item and shares it bilaterally; the
recipient state sees it, a third state does not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

TITLE = "Pistols seized at a river checkpoint"
SERIAL = "BRW-778812"


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/.*"))


def sign_out(page: Any, base: str) -> None:
    page.click("form[action$='/logout'] button")
    page.wait_for_url(re.compile(r".*/login.*"))


def test_case_shared_bilaterally_reaches_only_the_named_state(
        live_server: str, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page()
    shots = tmp_path / "screenshots"
    shots.mkdir()

    sign_in(page, live_server, "fra.analyst")
    page.goto(f"{live_server}/cases/new")
    page.fill("#f-title", TITLE)
    page.fill("#f-narrative", "Twelve pistols found in a boat.")
    page.select_option("#f-point_of_diversion", "in_transit")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/[0-9a-f-]{36}$"))
    case_url = page.url
    assert TITLE in page.content()

    page.goto(f"{case_url}/item/new")
    page.select_option("#f-category", "small_arms")
    page.fill("#f-quantity", "12")
    page.fill("#f-serial", SERIAL)
    page.click("main form button[type=submit]")
    page.wait_for_url(case_url)
    assert SERIAL in page.content()
    page.screenshot(path=str(shots / "1-case-with-item.png"), full_page=True)

    page.goto(f"{case_url}/share")
    page.check("input[name=tier][value=bilateral]")
    page.check("input[name=states][value=DEU]")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/share/confirm.*"))
    confirmation = page.content()
    assert "DEU" in confirmation and "MLI" not in confirmation
    page.screenshot(path=str(shots / "2-share-confirmation.png"), full_page=True)
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(case_url)
    sign_out(page, live_server)

    sign_in(page, live_server, "deu.analyst")
    assert TITLE in page.content()  # in the case list
    page.goto(case_url)
    assert TITLE in page.content() and SERIAL in page.content()
    page.screenshot(path=str(shots / "3-recipient-sees-case.png"), full_page=True)
    sign_out(page, live_server)

    sign_in(page, live_server, "mli.analyst")
    assert TITLE not in page.content()
    response = page.goto(case_url)
    assert response.status == 404
    assert TITLE not in page.content() and SERIAL not in page.content()
    page.screenshot(path=str(shots / "4-third-state-sees-nothing.png"), full_page=True)
    assert len(list(shots.iterdir())) == 4


def test_ammunition_fields_follow_the_category_and_nothing_typed_is_hidden(
        live_server: str, browser: Any) -> None:
    page = browser.new_page()
    sign_in(page, live_server, "fra.analyst")
    page.goto(f"{live_server}/cases/new")
    lot = page.locator("[id='f-items.0.lot']")
    assert lot.is_visible()  # no category chosen yet: every field is offered
    page.select_option("[id='f-items.0.category']", "small_arms")
    assert not lot.is_visible() and not page.locator("[id='f-items.0.headstamp']").is_visible()
    page.select_option("[id='f-items.0.category']", "ammunition")
    assert lot.is_visible()
    lot.fill("LOT-77")
    page.select_option("[id='f-items.0.category']", "small_arms")
    assert lot.is_visible()  # it holds a value: never sent unseen
    page.close()
