"""Signing in and out, split-key server-side sessions, expiry, CSRF, languages."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from crypto import CaseKey, CryptoError
from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import Browser
from web.sessions import web_sessions


def rows(exchange: Exchange) -> dict[str, dict]:
    engine = exchange.ledger.recorder.datastore.engine
    with engine.connect() as conn:
        return {r.id_hash: dict(r._mapping) for r in conn.execute(select(web_sessions))}


def split(cookie: str) -> tuple[bytes, bytes]:
    def raw(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    sid, key = cookie.split(".")
    return raw(sid), raw(key)


def test_sign_in_shows_user_state_and_sign_out(browser: Browser, people: dict) -> None:
    response = browser.login("fra.analyst")
    assert response.status_code == 302 and response.location == "/cases/"
    page = browser.get("/cases/").text
    assert "fra.analyst" in page and ">FRA<" in page and "Sign out" in page


def test_wrong_password_is_refused_and_unlocks_nothing(browser: Browser, people: dict,
                                                       exchange: Exchange) -> None:
    response = browser.login("fra.analyst", "not the password at all")
    assert response.status_code == 401
    assert "Wrong user name or password." in response.text
    assert all(row["keyring"] is None for row in rows(exchange).values())
    assert browser.get("/cases/").status_code == 302


def test_pages_need_a_signed_in_user(browser: Browser) -> None:
    response = browser.get("/cases/")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_sign_in_starts_a_new_session_id(browser: Browser, people: dict) -> None:
    browser.get("/login")
    before = browser.cookie
    browser.login("fra.analyst")
    assert browser.cookie and browser.cookie != before


def test_sign_out_deletes_the_session_row_and_the_old_cookie_leads_to_sign_in(
        app: Flask, browser: Browser, people: dict, exchange: Exchange) -> None:
    browser.login("fra.analyst")
    old = browser.cookie
    assert old is not None
    old_hash = hashlib.sha256(split(old)[0]).hexdigest()
    assert rows(exchange)[old_hash]["keyring"] is not None
    assert browser.post("/logout").status_code == 302
    assert old_hash not in rows(exchange)
    replay = app.test_client()
    replay.set_cookie("divex_session", old)
    response = replay.get("/cases/")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_a_stolen_session_row_without_the_cookie_key_opens_nothing(
        app: Flask, browser: Browser, people: dict, exchange: Exchange) -> None:
    browser.login("fra.analyst")
    cookie = browser.cookie
    assert cookie is not None
    sid, key = split(cookie)
    id_hash = hashlib.sha256(sid).digest()
    row = rows(exchange)[id_hash.hex()]
    keyring = people["FRA"].keyring.to_bytes()
    # The keyring is in the row only sealed: no private key appears in clear.
    private_hex = keyring.decode().split('"encryption":"')[1][:64]
    dump = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row.values())
    assert private_hex.encode() not in dump and keyring not in dump
    # Neither the server's secret key nor a guessed key opens it; the cookie's key does.
    for wrong in (os.urandom(32), hashlib.sha256(b"test-secret").digest()):
        with pytest.raises(CryptoError):
            CaseKey(version=1, secret=wrong).open(row["keyring"], id_hash)
    assert CaseKey(version=1, secret=key).open(row["keyring"], id_hash) == keyring
    # The session id alone (with any other key) is not a session.
    thief = app.test_client()
    forged = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    thief.set_cookie("divex_session", f"{cookie.split('.')[0]}.{forged}")
    assert thief.get("/cases/").status_code == 302
    assert browser.get("/cases/").status_code == 200  # and the owner is not logged out


@pytest.mark.parametrize("column, age", [("seen", timedelta(minutes=31)),
                                         ("created", timedelta(hours=13))])
def test_an_expired_session_is_deleted(browser: Browser, people: dict, exchange: Exchange,
                                       column: str, age: timedelta) -> None:
    browser.login("fra.analyst")
    assert browser.get("/cases/").status_code == 200
    engine = exchange.ledger.recorder.datastore.engine
    with engine.begin() as conn:
        conn.execute(update(web_sessions).values(
            {column: datetime.now(UTC).replace(tzinfo=None) - age}))
    assert browser.get("/cases/").status_code == 302
    assert all(row["keyring"] is None for row in rows(exchange).values())


def test_a_deactivated_users_session_stops_working(browser: Browser, people: dict,
                                                   exchange: Exchange) -> None:
    browser.login("fra.reviewer")
    assert browser.get("/cases/").status_code == 200
    exchange.directory.deactivate_user(people["FRA.admin"], "fra.reviewer")
    assert browser.get("/cases/").status_code == 302
    assert all(row["keyring"] is None for row in rows(exchange).values())


def test_the_viewer_is_rebuilt_from_the_directory(browser: Browser, people: dict) -> None:
    browser.login("fra.reviewer")
    page = browser.get("/cases/").text
    assert "Reviewer" in page and "Log a new case" not in page


def test_sign_in_without_csrf_token_is_refused(browser: Browser, people: dict,
                                               exchange: Exchange) -> None:
    response = browser.post("/login", {"username": "fra.analyst", "password": PASSWORD},
                            csrf=False)
    assert response.status_code == 400
    assert "security token" in response.text
    assert all(row["keyring"] is None for row in rows(exchange).values())


def test_sign_in_ignores_a_next_address_on_another_site(browser: Browser, people: dict) -> None:
    response = browser.post("/login", {"username": "fra.analyst", "password": PASSWORD,
                                       "next": "//evil.example/"})
    assert response.location == "/cases/"


def test_french_ui_when_french_is_chosen(analyst: Browser) -> None:
    assert analyst.post("/language", {"lang": "fr", "next": "/cases/"}).status_code == 302
    page = analyst.get("/cases/").text
    assert '<html lang="fr">' in page
    assert "Dossiers que votre État peut lire" in page and "Se déconnecter" in page


def test_browser_language_is_the_default(browser: Browser) -> None:
    page = browser.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}).text
    assert "Se connecter" in page
    page = browser.get("/login", headers={"Accept-Language": "es"}).text
    assert "Iniciar sesión" in page


def test_domain_refusals_are_translated(browser: Browser, people: dict) -> None:
    browser.post("/language", {"lang": "fr"})
    response = browser.login("fra.analyst", "not the password at all")
    assert "mot de passe incorrect." in response.text



def test_sessions_end_when_the_state_rotates_its_keys(app, people: dict,
                                                      exchange: Exchange) -> None:
    analyst = Browser(app.test_client())
    analyst.login("fra.analyst")
    assert analyst.get("/cases/").status_code == 200
    exchange.directory.rotate_state_keys(people["FRA.admin"])
    assert analyst.get("/cases/").status_code == 302  # to sign in, for the new keyring
    analyst.login("fra.analyst")
    assert analyst.get("/cases/").status_code == 200
