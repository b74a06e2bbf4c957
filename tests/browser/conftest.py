"""A live divex server in a thread and headless Debian chromium driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from infra.wiring import Exchange, open_exchange, prepare_store
from tests.conftest import PASSWORD, make_settings
from tests.services import unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_exchange(tmp_path: Path) -> Iterator[Exchange]:
    """Three States Parties with an analyst each, on a fresh SQLite file."""
    settings = make_settings(tmp_path / "data")
    prepare_store(settings)
    exchange = open_exchange(settings)
    directory = exchange.directory
    directory.initialise("secretariat", PASSWORD)
    secretariat = directory.authenticate("secretariat", PASSWORD)
    for code in ("FRA", "DEU", "MLI"):
        directory.create_state(secretariat, code, "state_party", f"{code.lower()}.admin",
                               PASSWORD)
        admin = directory.authenticate(f"{code.lower()}.admin", PASSWORD)
        directory.add_user(admin, f"{code.lower()}.analyst", PASSWORD, ["analyst"])
    yield exchange
    exchange.close()


@pytest.fixture
def live_server(live_exchange: Exchange) -> Iterator[str]:
    from web import create_app

    server = make_server("127.0.0.1", 0, create_app(live_exchange), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def record_console(page: Any) -> list[str]:
    """Every Content-Security-Policy refusal chromium logs on the page's console from now on
    ("Refused to apply inline style because it violates ..."), and every uncaught error."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: seen.append(f"pageerror: {error}"))
    return seen
