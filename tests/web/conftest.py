"""Web fixtures: an exchange on a fresh SQLite file, the app with CSRF on, signed-in browsers."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange, open_exchange, prepare_store
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
_SECRET = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')
_RECOVERY = re.compile(r"<li><code>([A-Z2-7-]+)</code></li>")


@dataclass
class Authenticator:
    """A test user's authenticator app (and the recovery codes they wrote down)."""

    secret: str
    recovery_codes: list[str] = field(default_factory=list)
    last_step: int = 0

    def code(self) -> str:
        """The code of the earliest time step the server will still take (now-1..now+1, each
        once), as a user would wait for the next one; a recovery code when none is left.
        The previous step is used only while it stays valid for 10 s more: a request that
        crosses a step's end under load must not find its code expired."""
        moment = time.time()
        now = int(moment) // 30
        earliest = now - 1 if moment % 30 < 20 else now
        for step in range(earliest, now + 2):
            if step > self.last_step:
                self.last_step = step
                return pyotp.TOTP(self.secret).at(step * 30)
        return self.recovery_codes.pop()


# Every enrolled test user's app, by data folder (one per exchange) and user name.
AUTHENTICATORS: dict[tuple[str, str], Authenticator] = {}


def authenticator(exchange: Exchange, username: str) -> Authenticator:
    return AUTHENTICATORS[(str(exchange.settings.data_dir), username)]


@pytest.fixture
def exchange(tmp_path: Path) -> Iterator[Exchange]:
    """SQLite only: the web layer adds nothing backend-specific to what tests/ covers."""
    settings = make_settings(tmp_path)
    prepare_store(settings)
    opened = open_exchange(settings)
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
        """Signs in as the user would, second factor included: a user whose role requires
        one and who has none enrols at this sign-in; the app's codes are kept for later."""
        response = self.post("/login", {"username": username, "password": password})
        step = response.location if response.status_code == 302 else ""
        if step == "/login/enrol":
            return self.enrol_at_sign_in(username)
        if step == "/login/code":
            return self.post("/login/code", {"code": self.authenticator(username).code()})
        return response

    def enrol_at_sign_in(self, username: str) -> TestResponse:
        page = self.get("/login/enrol").text
        app = Authenticator(_SECRET.search(page).group(1).replace(" ", ""))  # type: ignore[union-attr]
        response = self.post("/login/enrol", {"code": app.code()})
        assert response.status_code == 302, response.text
        app.recovery_codes = _RECOVERY.findall(self.get(response.location).text)
        AUTHENTICATORS[(self.data_dir, username)] = app
        return response

    def authenticator(self, username: str) -> Authenticator:
        return AUTHENTICATORS[(self.data_dir, username)]

    @property
    def data_dir(self) -> str:
        return str(self.client.application.extensions["divex"].settings.data_dir)

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
