"""In a real browser, from a store holding only the secretariat: it registers France, France's
first admin accepts and sets up a second factor, invites an analyst who accepts, logs a case
and shares it with Germany (onboarded by invitation too), whose analyst reads it; the
secretariat reads nothing."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from werkzeug.serving import make_server

from infra.wiring import Exchange, open_exchange, prepare_store
from tests.conftest import PASSWORD, make_settings

pytestmark = pytest.mark.browser

TITLE = "Grenades found in a customs yard"


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[tuple[str, Exchange]]:
    """The secretariat only, plus Germany onboarded by invitation (its analyst a reader)."""
    from web import create_app

    settings = make_settings(tmp_path / "data")
    prepare_store(settings)
    exchange = open_exchange(settings)
    exchange.directory.initialise("secretariat", PASSWORD)
    secretariat = exchange.directory.authenticate("secretariat", PASSWORD)
    issued = exchange.onboarding.register_state(secretariat, "DEU", "state_party", "deu.admin")
    admin = exchange.onboarding.accept(issued.code, "", PASSWORD).unlocked.viewer
    exchange.onboarding.accept(exchange.onboarding.invite_user(
        admin, "deu.analyst", ["analyst"]).code, "", PASSWORD)
    server = make_server("127.0.0.1", 0, create_app(exchange), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", exchange
    server.shutdown()
    thread.join(timeout=5)
    exchange.close()


def enrol(page: Any) -> None:
    """The enrolment step of a sign-in, as a person with an authenticator app does it."""
    page.wait_for_url(re.compile(r".*/login/enrol$"))
    secret = page.inner_text("code.secret").replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/account/security/recovery-codes$"))
    page.click("a.button")


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")


def accept(page: Any, base: str, code: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.click("text=I have an invitation code")
    page.fill("#f-code", code)
    page.fill("#f-username", username)
    page.fill("#f-password", PASSWORD)
    page.fill("#f-password_again", PASSWORD)
    page.click("main form button[type=submit]")


def test_a_state_is_onboarded_and_exchanges_its_first_case(
        empty_server: tuple[str, Exchange], browser: Any, tmp_path: Path) -> None:
    base, exchange = empty_server
    shots = tmp_path / "screenshots"
    shots.mkdir()
    secretariat = browser.new_context().new_page()
    sign_in(secretariat, base, "secretariat")
    enrol(secretariat)
    secretariat.click("nav >> text=States")
    secretariat.click("text=Register a state")
    secretariat.select_option("#f-code", "FRA")
    secretariat.select_option("#f-status", "state_party")
    secretariat.fill("#f-username", "fra.admin")
    secretariat.click("main form button[type=submit]")
    code = secretariat.inner_text("code.invitation-code")
    secretariat.screenshot(path=str(shots / "1-invitation-code.png"), full_page=True)

    admin = browser.new_context().new_page()
    accept(admin, base, code, "fra.admin")
    admin.wait_for_url(re.compile(r".*/invitations/welcome$"))
    assert admin.inner_text("code.recovery-secret")
    admin.click("a.button")
    enrol(admin)
    admin.wait_for_url(re.compile(r".*/admin/users$"))
    admin.click("text=Invite a user")
    admin.fill("#f-username", "fra.analyst")
    admin.check("input[name=roles][value=analyst]")
    admin.click("main form button[type=submit]")
    invited = admin.inner_text("code.invitation-code")

    analyst = browser.new_context().new_page()
    accept(analyst, base, invited, "fra.analyst")
    analyst.wait_for_url(re.compile(r".*/cases/$"))
    analyst.goto(f"{base}/cases/new")
    analyst.fill("#f-title", TITLE)
    analyst.click("main form button[type=submit]")
    analyst.wait_for_url(re.compile(r".*/cases/[0-9a-f-]{36}$"))
    case_url = analyst.url
    analyst.goto(f"{case_url}/share")
    analyst.check("input[name=tier][value=bilateral]")
    analyst.check("input[name=states][value=DEU]")
    analyst.click("main form button[type=submit]")
    analyst.wait_for_url(re.compile(r".*/share/confirm.*"))
    analyst.click("main form[method=post] button[type=submit]")
    analyst.wait_for_url(case_url)

    reader = browser.new_context().new_page()
    sign_in(reader, base, "deu.analyst")
    reader.wait_for_url(re.compile(r".*/cases/.*"))
    assert TITLE in reader.content()
    reader.goto(case_url)
    assert TITLE in reader.content()
    reader.screenshot(path=str(shots / "2-germany-reads-it.png"), full_page=True)

    secretariat.goto(f"{base}/cases/")
    assert TITLE not in secretariat.content()
    assert secretariat.goto(case_url).status == 404
    assert exchange.directory.state("FRA").status == "state_party"
