"""A sign-in from a network the account was never used from is told to the user alone, in
their inbox (issue 22); the network is kept only as a keyed digest, never in the log."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import text

from infra.wiring import Exchange
from tests.web.conftest import Browser


def sign_in_from(app: Flask, address: str, username: str = "fra.analyst") -> Browser:
    browser = Browser(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = address
    assert browser.login(username).status_code == 302
    return browser


def told(browser: Browser) -> int:
    """The inbox items (links) that say so; the kind filter's option says it too."""
    page = browser.get("/inbox/?kind=new_sign_in_place").text
    return len(re.findall(r"<a href=\"[^\"]*\">Your account was signed in to from a network", page))


def test_only_a_new_network_is_told_and_only_to_that_user(app: Flask, exchange: Exchange,
                                                           people: dict) -> None:
    first = sign_in_from(app, "198.51.100.7")
    assert told(first) == 0  # the first sign-in ever has nothing to compare with
    assert told(sign_in_from(app, "198.51.100.99")) == 0  # the same /24 network
    other = sign_in_from(app, "203.0.113.5")
    assert told(other) == 1
    assert told(sign_in_from(app, "203.0.113.5", "deu.analyst")) == 0  # not DEU's news
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        logged = b"".join(bytes(r[0]) for r in db.execute(text("SELECT state FROM divex_events")))
        places = db.execute(text("SELECT place FROM web_sign_in_places")).scalars().all()
    assert b"203.0.113" not in logged and not any("203.0.113" in p for p in places)
