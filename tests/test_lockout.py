"""Guessing is slowed per account and address and per account, without locking the user out;
the user is told of the wrong tries and sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from cases.kernel.errors import AuthenticationFailed
from infra.wiring import Exchange
from tests.conftest import PASSWORD, register_states
from tests.web.conftest import Browser

GUESSER, USER = "203.0.113.66", "192.0.2.10"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(exchange: Exchange) -> Clock:
    register_states(exchange.directory, ("FRA",))
    exchange.directory.lockout.clock = clocked = Clock()
    return clocked


def wrong(exchange: Exchange, times: int, username: str = "fra.analyst",
          address: str = GUESSER, clock: Clock | None = None) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
            exchange.directory.authenticate(username, "not the password at all", address)
        if clock:
            clock.now += timedelta(minutes=1)  # past any delay


def sign_in(exchange: Exchange, address: str = USER) -> str:
    return exchange.directory.authenticate("fra.analyst", PASSWORD, address).username


def test_five_wrong_tries_stop_that_address_but_not_the_user_elsewhere(
        exchange: Exchange, clock: Clock) -> None:
    wrong(exchange, 5, clock=clock)
    with pytest.raises(AuthenticationFailed, match="came from your network: try again after "
                                                   "09:15 UTC"):
        sign_in(exchange, GUESSER)  # even the right password, from there
    assert sign_in(exchange, USER) == "fra.analyst"
    clock.now = datetime(2026, 3, 1, 9, 16, tzinfo=UTC)
    assert sign_in(exchange, GUESSER) == "fra.analyst"


def test_from_the_fifth_wrong_try_each_next_one_waits_longer_up_to_a_minute(
        exchange: Exchange, clock: Clock) -> None:
    for n in range(12):  # a crowd: one wrong try from each of twelve addresses, each
        if n:  # as soon as the delay lets it (12 tries within the 15 minutes)
            clock.now += timedelta(seconds=61)
        wrong(exchange, 1, address=f"198.51.100.{n}")
    with pytest.raises(AuthenticationFailed, match="wait 60 seconds"):
        sign_in(exchange)  # 2**7 s, capped at a minute
    clock.now += timedelta(seconds=30)
    with pytest.raises(AuthenticationFailed, match="wait 30 seconds"):
        sign_in(exchange)
    clock.now += timedelta(seconds=31)
    assert sign_in(exchange) == "fra.analyst"


def test_the_delay_starts_at_one_second_after_the_fifth_wrong_try(
        exchange: Exchange, clock: Clock) -> None:
    for n in range(5):
        wrong(exchange, 1, address=f"198.51.100.{n}")
    with pytest.raises(AuthenticationFailed, match="wait 1 seconds"):
        sign_in(exchange)
    clock.now += timedelta(seconds=1)
    assert sign_in(exchange) == "fra.analyst"


def test_a_right_password_clears_its_own_address_only(exchange: Exchange,
                                                      clock: Clock) -> None:
    wrong(exchange, 4, address=USER, clock=clock)
    sign_in(exchange, USER)
    wrong(exchange, 4, address=USER, clock=clock)
    assert sign_in(exchange, USER) == "fra.analyst"
    wrong(exchange, 4, clock=clock)  # the guesser's four still count after the user's success
    sign_in(exchange, USER)
    wrong(exchange, 1, clock=clock)
    with pytest.raises(AuthenticationFailed, match="came from your network"):
        sign_in(exchange, GUESSER)


def test_guessing_names_slows_them_too_and_other_users_are_unaffected(
        exchange: Exchange, clock: Clock) -> None:
    wrong(exchange, 5, "nobody.here", clock=clock)
    with pytest.raises(AuthenticationFailed, match="came from your network"):
        exchange.directory.authenticate("nobody.here", PASSWORD, GUESSER)
    assert sign_in(exchange, GUESSER) == "fra.analyst"


def test_the_user_is_told_once_of_wrong_tries_and_sees_them_on_the_security_page(
        exchange: Exchange, clock: Clock) -> None:
    from web import create_app

    app: Flask = create_app(exchange, {"TESTING": True})
    wrong(exchange, 3, clock=clock)
    browser = Browser(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = USER
    assert browser.login("fra.analyst").status_code == 302
    page = browser.get("/cases/")
    assert "3 wrong passwords or codes were tried at your account" in page.text
    assert "1 Mar 2026, 09:02 UTC from 203.0.113.66" in page.text
    security = browser.get("/account/security").text
    assert security.count("203.0.113.66") == 3
    browser.post("/logout", {})
    assert browser.login("fra.analyst").status_code == 302
    again = browser.get("/cases/")
    assert again.status_code == 200 and "were tried at your account" not in again.text  # told once


def test_the_login_page_says_why_a_try_is_refused(clock: Clock, exchange: Exchange) -> None:
    from web import create_app

    app: Flask = create_app(exchange, {"TESTING": True})
    browser = Browser(app.test_client())
    for _ in range(5):
        assert browser.login("fra.analyst", "not the password at all").status_code == 401
        clock.now += timedelta(minutes=1)
    refused = browser.login("fra.analyst")
    assert refused.status_code == 401 and "try again after 09:15 UTC" in refused.text


@pytest.mark.parametrize("username", ["fra\x00analyst", "\x00", "fra analyst", "x" * 500])
def test_a_name_no_user_can_have_is_refused_without_a_lookup(exchange: Exchange, clock: Clock,
                                                             username: str) -> None:
    """PostgreSQL cannot even compare a NUL: such a name must not reach the lockout table."""
    with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
        exchange.directory.authenticate(username, PASSWORD)
    exchange.directory.authenticate("fra.analyst", PASSWORD)  # nothing locked or broken
