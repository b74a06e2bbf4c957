"""The second factor in the domain: sealed at rest, kept across a password change, removed by
a recovery, and recorded as signed facts on the user."""

from __future__ import annotations

import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from cases.identity.directory_service import format_recovery_secret
from cases.identity.lockout import COMMAND_LINE
from cases.kernel.errors import AuthenticationFailed
from cases.kernel.keystore import recovery_codes, second_factors
from infra.cli import main
from infra.wiring import Exchange
from tests.conftest import (
    PASSWORD,
    TOTP_SECRET,
    cli_env,
    enrolled,
    previous_step_code,
    register_states,
)
from tests.test_shredding import events

WRONG_CODE = "That code is not right, or it was already used."

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def earlier_code() -> str:
    return previous_step_code(SECRET)


@pytest.fixture
def people(exchange: Exchange) -> dict:
    return register_states(exchange.directory, ("FRA",))


def test_nothing_of_the_second_factor_is_stored_in_clear(exchange: Exchange, people) -> None:
    codes = exchange.directory.second_factors.enrol(people["FRA"], SECRET, earlier_code(),
                                                    password=PASSWORD)
    engine = exchange.ledger.recorder.datastore.engine
    with engine.connect() as db:  # every row of every table: keystore, log, sessions...
        stored = [bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
                  for name in inspect(engine).get_table_names()
                  for row in db.execute(text(f'SELECT * FROM "{name}"')) for v in row]
    assert any(True for _ in stored)
    for table in (second_factors, recovery_codes):
        assert table.name in inspect(engine).get_table_names()
    secret_bytes = SECRET.encode()
    for blob in stored:
        assert secret_bytes not in blob
        assert not any(c.encode() in blob or c.replace("-", "").encode() in blob for c in codes)
    user = exchange.directory.user("fra.analyst")
    assert user.second_factor and user.recovery_codes_left == 10


def test_enrolling_needs_the_password_not_just_a_session(exchange: Exchange, people) -> None:
    factors = exchange.directory.second_factors
    for wrong in ("", "not the password at all"):
        with pytest.raises(AuthenticationFailed):
            factors.enrol(people["FRA"], SECRET, earlier_code(), password=wrong)
    assert not exchange.directory.user("fra.analyst").second_factor
    with pytest.raises(TypeError):
        factors.enrol(people["FRA"], SECRET, earlier_code())  # type: ignore[call-arg]
    assert len(factors.enrol(people["FRA"], SECRET, earlier_code(), password=PASSWORD)) == 10


def test_a_password_change_keeps_the_second_factor(exchange: Exchange, people) -> None:
    directory = exchange.directory
    codes = directory.second_factors.enrol(people["FRA"], SECRET, earlier_code(),
                                           password=PASSWORD)
    new_password = "another long passphrase 42"
    directory.change_password(people["FRA"], PASSWORD, new_password)
    unlocked = directory.unlock("fra.analyst", new_password)
    assert directory.second_factors.verify(unlocked, codes[0]).username == "fra.analyst"
    assert directory.second_factors.verify(unlocked, pyotp.TOTP(SECRET).now())


def test_a_recovery_with_the_state_secret_removes_the_second_factor(exchange: Exchange) -> None:
    directory = exchange.directory
    directory.initialise("secretariat", PASSWORD)
    secretariat = directory.authenticate("secretariat", PASSWORD)
    secret = directory.create_state(secretariat, "FRA", "state_party", "fra.admin", PASSWORD)
    admin = directory.authenticate("fra.admin", PASSWORD)
    directory.second_factors.enrol(admin, SECRET, earlier_code(), password=PASSWORD)
    directory.recover_with_secret("FRA", secret, "fra.admin", "a brand new passphrase 7")
    user = directory.user("fra.admin")
    assert not user.second_factor
    assert [type(e).__name__ for e in
            exchange.ledger.repository.event_store.get(user.id)][-2:] == [
        "SecondFactorReset", "PasswordChanged"]
    assert format_recovery_secret  # the secret format is the one divex prints


def test_a_code_is_refused_to_a_sign_in_that_began_before_a_password_change(
        exchange: Exchange, people) -> None:
    directory = exchange.directory
    directory.second_factors.enrol(people["FRA"], SECRET, earlier_code(), password=PASSWORD)
    stale = directory.unlock("fra.analyst", PASSWORD)
    directory.change_password(people["FRA"], PASSWORD, "another long passphrase 42")
    with pytest.raises(AuthenticationFailed, match="Sign in again"):
        directory.resume("fra.analyst", stale.user_key.to_bytes())


# The command line: no way around the second factor


def retention_command(exchange: Exchange, tmp_path, case_id: object, *extra: str,
                      code_input: str | None = None, years: int = 30):
    password = tmp_path / "pw"
    password.write_text(PASSWORD)
    return CliRunner().invoke(main, ["cases", "retention", str(case_id), "--years", str(years),
                                     "--user", "fra.admin", "--password-file", str(password),
                                     *extra], env=cli_env(exchange), input=code_input)


def test_the_command_line_asks_an_enrolled_admin_for_the_code(exchange: Exchange, people,
                                                              tmp_path) -> None:
    case_id = exchange.cases.open_case(people["FRA"], {"title": "Pistols in a car boot"})
    recovery = enrolled(exchange.directory, people["FRA.admin"])
    before = events(exchange)
    for wrong in (["--code", "000000"], ["--code", "not a code"], []):
        refused = retention_command(exchange, tmp_path, case_id, *wrong, code_input="123456\n")
        assert refused.exit_code == 1 and WRONG_CODE in refused.output, refused.output
        assert "Traceback" not in refused.output
    assert events(exchange) == before
    exchange.directory.lockout.succeeded("fra.admin", COMMAND_LINE)  # 3 wrong codes counted
    now = pyotp.TOTP(TOTP_SECRET).now()
    prompted = retention_command(exchange, tmp_path, case_id, code_input=f"{now}\n")
    assert prompted.exit_code == 0 and "Code from your authenticator app" in prompted.output
    replayed = retention_command(exchange, tmp_path, case_id, "--code", now)
    assert replayed.exit_code == 1 and WRONG_CODE in replayed.output
    used = retention_command(exchange, tmp_path, case_id, "--code", recovery[0], years=40)
    assert used.exit_code == 0, used.output
    again = retention_command(exchange, tmp_path, case_id, "--code", recovery[0], years=50)
    assert again.exit_code == 1 and WRONG_CODE in again.output


def test_an_admin_without_a_second_factor_is_sent_to_enrol_first(exchange: Exchange, people,
                                                                 tmp_path) -> None:
    case_id = exchange.cases.open_case(people["FRA"], {"title": "Pistols in a car boot"})
    before = events(exchange)
    refused = retention_command(exchange, tmp_path, case_id, "--code", "123456")
    assert refused.exit_code == 1 and "must set up a second factor first" in refused.output
    assert events(exchange) == before
