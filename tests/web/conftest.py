"""Web fixtures: an exchange on a fresh SQLite file, the app with CSRF on, signed-in browsers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cases.viewer import Viewer
from infra.wiring import Exchange, open_exchange
from tests.conftest import PASSWORD, make_settings, register_states
from web import create_app

SUMMARY = {"title": "Rifles found in a cache near the border",
           "narrative": "Forty rifles with erased serials.",
           "point_of_diversion": "at_or_after_delivery",
           "concerned": {"exporter": "DEU", "discovery": "MLI"}}
ITEM = {"category": "small_arms", "quantity": "40", "serial": "SN-123", "make": "Acme"}
ACTOR = {"role": "broker", "name": "Example Trading Ltd", "country": "DEU"}
LEG = {"origin": "DEU", "destination": "MLI", "mode": "sea"}

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def exchange(tmp_path: Path) -> Iterator[Exchange]:
    """SQLite only: the web layer adds nothing backend-specific to what tests/ covers."""
    opened = open_exchange(make_settings(tmp_path))
    yield opened
    opened.close()


@pytest.fixture
def people(exchange: Exchange) -> dict[str, Viewer]:
    """The secretariat; FRA, DEU and MLI each with an admin, an analyst and a reviewer."""
    return register_states(exchange.directory, roles=("analyst", "reviewer"))


@pytest.fixture
def app(exchange: Exchange) -> Flask:
    return create_app(exchange, {"TESTING": True, "WTF_CSRF_ENABLED": True})


class Browser:
    """A test client that behaves like a user: it takes the CSRF token from the page."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def token(self) -> str:
        match = _TOKEN.search(self.client.get("/login").text)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> TestResponse:
        body = dict(data or {})
        if csrf:
            body["csrf_token"] = self.token()
        return self.client.post(path, data=body, **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> TestResponse:
        return self.post("/login", {"username": username, "password": password})

    @property
    def cookie(self) -> str | None:
        found = self.client.get_cookie("divex_session")
        return found.value if found else None


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def analyst(app: Flask, people: dict[str, Viewer]) -> Browser:
    """fra.analyst, signed in."""
    signed_in = Browser(app.test_client())
    assert signed_in.login("fra.analyst").status_code == 302
    return signed_in


def events(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


def error_next_to(response: TestResponse, field: str) -> str:
    """The message shown next to a form field, or '' if none."""
    match = re.search(rf'<p class="error" id="e-{field}">([^<]*)</p>', response.text)
    return match.group(1) if match else ""
