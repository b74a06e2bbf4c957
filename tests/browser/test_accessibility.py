"""Accessibility: axe-core finds nothing on any page a role reaches, in the three languages,
and a case can be logged with the keyboard alone (issue 23 item 9).

Each role signs in once on the demo data, then walks every page reachable by links from the
case list, one page per route (UUIDs and numbers stand for any), in English, French and
Spanish.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from infra.demo import DEMO_PASSWORD, demo_code, seed
from infra.wiring import open_exchange, prepare_store
from tests.conftest import make_settings
from tests.services import unavailable

from .conftest import CHROMIUM, CHROMIUM_FLAGS

LANGUAGES = ("en", "fr", "es")
ROLES = ("fra.analyst", "fra.admin", "fra.auditor", "secretariat")
SKIPPED = re.compile(r"\.(csv|json)$|/logout|/export|/receipts/|/tile/|/checkpoint$")  # files
ROUTE_PARTS = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from web import create_app

    settings = make_settings(tmp_path_factory.mktemp("a11y") / "data")
    prepare_store(settings)
    exchange = open_exchange(settings)
    seed(exchange, cases=8)
    server = make_server("127.0.0.1", 0, create_app(exchange), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    exchange.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if "/login/code" in page.url:
        page.fill("#code", demo_code())
        page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/.*"))


def choose_language(page: Any, code: str) -> None:
    page.select_option("#lang", code)
    page.click("form.lang button")
    page.wait_for_load_state()


def violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in found]


def walk(page: Any, base: str) -> dict[str, list[str]]:
    """Every route reachable by links from the case list, once each, with what axe found."""
    queue, routes, found = ["/cases/", "/summaries/print"], set(), {}
    while queue:
        path = queue.pop(0).split("#")[0]
        route = ROUTE_PARTS.sub("*", path.split("?")[0])
        if not path.startswith("/") or SKIPPED.search(path) or route in routes:
            continue
        routes.add(route)
        response = page.goto(base + path)
        if response is None or response.status >= 400:
            continue
        queue += [a.get_attribute("href") or "" for a in page.query_selector_all("a[href^='/']")]
        if problems := violations(page):
            found[path] = problems
    assert len(routes) > 5, routes  # the walk reached the pages, not a sign-in form
    return found


@pytest.mark.parametrize("username", ROLES)
def test_axe_finds_nothing_on_any_page_in_any_language(
        demo_server: str, chromium: Any, username: str) -> None:
    page = chromium.new_page()
    sign_in(page, demo_server, username)
    for language in LANGUAGES:
        choose_language(page, language)
        assert page.get_attribute("html", "lang") == language
        assert walk(page, demo_server) == {}, language
    page.close()


def test_a_case_is_logged_with_the_keyboard_alone(demo_server: str, chromium: Any) -> None:
    page = chromium.new_page()
    sign_in(page, demo_server, "sen.analyst")
    page.goto(f"{demo_server}/cases/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the main content"
    focus_link(page, "New case")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/cases/new$"))
    assert page.get_attribute("nav a[aria-current=page]", "href").endswith("/cases/new")
    page.keyboard.press("Tab")  # the skip link, then on to the form's first field
    while page.evaluate("document.activeElement.id") != "f-title":
        page.keyboard.press("Tab")
    page.keyboard.type("Pistols found in a fishing boat (keyboard)")
    while page.evaluate("document.activeElement.tagName") != "BUTTON" or \
            page.evaluate("document.activeElement.type") != "submit":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/cases/[0-9a-f-]{36}$"))
    assert "Pistols found in a fishing boat (keyboard)" in page.inner_text("main h1")
    page.close()


def focus_link(page: Any, text: str) -> None:
    """Tabs forward until the focused element is the link that reads ``text``."""
    for _ in range(60):
        if page.evaluate("document.activeElement.textContent.trim()") == text:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"no link {text!r} within 60 tab stops")


def test_the_walk_would_see_a_violation(chromium: Any) -> None:
    """The check can fail: an unlabelled field on a page is reported."""
    page = chromium.new_page()
    page.set_content('<html lang="en"><body><main><h1>t</h1><input id="x"></main></body></html>')
    assert any(v.startswith("label") for v in violations(page))
    page.close()
