"""Five wrong passwords in a row lock an account for a while; a right one resets the count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from cases.kernel.errors import AuthenticationFailed
from infra.wiring import Exchange
from tests.conftest import PASSWORD, register_states
from tests.web.conftest import Browser


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


def wrong(exchange: Exchange, times: int, username: str = "fra.analyst") -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
            exchange.directory.authenticate(username, "not the password at all")


def test_the_sixth_try_is_refused_even_with_the_right_password(exchange: Exchange,
                                                               clock: Clock) -> None:
    wrong(exchange, 5)
    with pytest.raises(AuthenticationFailed, match="locked until 09:15 UTC"):
        exchange.directory.authenticate("fra.analyst", PASSWORD)
    clock.now += timedelta(minutes=16)
    assert exchange.directory.authenticate("fra.analyst", PASSWORD).username == "fra.analyst"


def test_a_right_password_resets_the_count(exchange: Exchange, clock: Clock) -> None:
    wrong(exchange, 4)
    exchange.directory.authenticate("fra.analyst", PASSWORD)
    wrong(exchange, 4)
    assert exchange.directory.authenticate("fra.analyst", PASSWORD).state == "FRA"


def test_guessing_names_locks_them_too_and_other_users_are_unaffected(
        exchange: Exchange, clock: Clock) -> None:
    wrong(exchange, 5, "nobody.here")
    with pytest.raises(AuthenticationFailed, match="locked"):
        exchange.directory.authenticate("nobody.here", PASSWORD)
    assert exchange.directory.authenticate("fra.analyst", PASSWORD).username == "fra.analyst"


def test_the_login_page_says_the_account_is_locked(tmp_path, clock: Clock,
                                                   exchange: Exchange) -> None:
    from web import create_app

    app: Flask = create_app(exchange, {"TESTING": True})
    browser = Browser(app.test_client())
    for _ in range(5):
        assert browser.login("fra.analyst", "not the password at all").status_code == 401
    locked = browser.login("fra.analyst")
    assert locked.status_code == 401 and "locked until 09:15 UTC" in locked.text


@pytest.mark.parametrize("username", ["fra\x00analyst", "\x00", "fra analyst", "x" * 500])
def test_a_name_no_user_can_have_is_refused_without_a_lookup(exchange: Exchange, clock: Clock,
                                                             username: str) -> None:
    """PostgreSQL cannot even compare a NUL: such a name must not reach the lockout table."""
    with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
        exchange.directory.authenticate(username, PASSWORD)
    exchange.directory.authenticate("fra.analyst", PASSWORD)  # nothing locked or broken
