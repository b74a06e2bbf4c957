"""The directory of states and users, against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cases.identity.directory import SECRETARIAT_CODE
from cases.kernel.errors import AuthenticationFailed, Conflict, Forbidden, InvalidInput, NotFound
from crypto import CaseKey, unwrap_case_key, wrap_case_key
from infra.wiring import Exchange
from tests.conftest import PASSWORD


def event_count(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


@pytest.fixture
def secretariat(exchange: Exchange):
    exchange.directory.initialise("secretariat", PASSWORD)
    return exchange.directory.authenticate("secretariat", PASSWORD)


@pytest.fixture
def france_admin(exchange: Exchange, secretariat):
    exchange.directory.create_state(secretariat, "FRA", "state_party", "fra.admin", PASSWORD)
    return exchange.directory.authenticate("fra.admin", PASSWORD)


def test_initialise_creates_secretariat_once(exchange: Exchange) -> None:
    assert not exchange.directory.is_initialised()
    secret = exchange.directory.initialise("secretariat", PASSWORD)
    assert len(secret.replace("-", "")) >= 52
    assert exchange.directory.is_initialised()
    with pytest.raises(Conflict):
        exchange.directory.initialise("someone", PASSWORD)
    viewer = exchange.directory.authenticate("secretariat", PASSWORD)
    assert viewer.state == SECRETARIAT_CODE
    assert viewer.has("secretariat")


def test_create_state_registers_keys_and_first_admin(exchange: Exchange, secretariat) -> None:
    exchange.directory.create_state(secretariat, "mex", "signatory", "mex.admin", PASSWORD)
    state = exchange.directory.state("MEX")
    assert state.name == "Mexico"
    assert state.status == "signatory"
    admin = exchange.directory.authenticate("mex.admin", PASSWORD)
    assert admin.state == "MEX" and admin.has("state_admin")
    assert admin.keyring.current.public() == state.public_keys
    assert [s.code for s in exchange.directory.states()] == ["MEX", SECRETARIAT_CODE]


@pytest.mark.parametrize(
    ("code", "status", "username", "password", "error", "field"),
    [
        ("ZZZ", "state_party", "zzz.admin", PASSWORD, InvalidInput, "code"),
        ("FR", "state_party", "fr.admin", PASSWORD, InvalidInput, "code"),
        ("XAT", "state_party", "x.admin", PASSWORD, InvalidInput, "code"),
        ("DEU", "member", "deu.admin", PASSWORD, InvalidInput, "status"),
        ("DEU", "state_party", "no", PASSWORD, InvalidInput, "username"),
        ("DEU", "state_party", "deu.admin", "short", InvalidInput, "password"),
        ("DEU", "state_party", "deu.admin", "aaaaaaaaaaaaaaaaaaaa", InvalidInput, "password"),
        ("DEU", "state_party", "deu.admin", "my deu.admin password", InvalidInput, "password"),
    ],
)
def test_bad_state_input_is_refused_and_nothing_stored(
    exchange: Exchange, secretariat, code, status, username, password, error, field
) -> None:
    before = event_count(exchange)
    with pytest.raises(error) as refused:
        exchange.directory.create_state(secretariat, code, status, username, password)
    assert refused.value.field == field
    assert refused.value.message
    assert event_count(exchange) == before


def test_duplicate_state_and_user_are_conflicts(exchange: Exchange, secretariat,
                                                france_admin) -> None:
    before = event_count(exchange)
    with pytest.raises(Conflict):
        exchange.directory.create_state(secretariat, "FRA", "state_party", "other", PASSWORD)
    with pytest.raises(Conflict):
        exchange.directory.add_user(france_admin, "FRA.Admin", PASSWORD, ["analyst"])
    assert event_count(exchange) == before


def test_only_secretariat_registers_states(exchange: Exchange, france_admin) -> None:
    with pytest.raises(Forbidden):
        exchange.directory.create_state(france_admin, "DEU", "state_party", "d.admin", PASSWORD)


def test_state_admin_adds_user_who_gets_the_state_keys(exchange: Exchange,
                                                        france_admin) -> None:
    exchange.directory.add_user(france_admin, "fra.analyst", PASSWORD, ["analyst", "reviewer"])
    analyst = exchange.directory.authenticate("fra.analyst", PASSWORD)
    assert analyst.state == "FRA"
    assert analyst.roles == {"analyst", "reviewer"}
    # The analyst can open what was wrapped for France.
    key = CaseKey.generate()
    wrapped = wrap_case_key(key, case_id="c1", recipient="FRA",
                            recipient_keys=exchange.directory.state("FRA").public_keys)
    assert unwrap_case_key(wrapped, case_id="c1", recipient="FRA",
                           keyring=analyst.keyring) == key


@pytest.mark.parametrize("roles", [["secretariat"], ["king"], []])
def test_wrong_role_is_refused(exchange: Exchange, france_admin, roles) -> None:
    before = event_count(exchange)
    with pytest.raises(InvalidInput) as refused:
        exchange.directory.add_user(france_admin, "fra.x", PASSWORD, roles)
    assert refused.value.field == "roles"
    assert event_count(exchange) == before


def test_analyst_cannot_add_users(exchange: Exchange, france_admin) -> None:
    exchange.directory.add_user(france_admin, "fra.analyst", PASSWORD, ["analyst"])
    analyst = exchange.directory.authenticate("fra.analyst", PASSWORD)
    with pytest.raises(Forbidden):
        exchange.directory.add_user(analyst, "fra.friend", PASSWORD, ["state_admin"])


def test_wrong_password_and_unknown_user_fail_alike(exchange: Exchange, france_admin) -> None:
    with pytest.raises(AuthenticationFailed) as wrong:
        exchange.directory.authenticate("fra.admin", PASSWORD + "!")
    with pytest.raises(AuthenticationFailed) as unknown:
        exchange.directory.authenticate("nobody", PASSWORD)
    assert wrong.value.message == unknown.value.message


def test_change_password_rewraps_keys(exchange: Exchange, france_admin) -> None:
    new = "a much longer new passphrase"
    exchange.directory.change_password(france_admin, PASSWORD, new)
    with pytest.raises(AuthenticationFailed):
        exchange.directory.authenticate("fra.admin", PASSWORD)
    again = exchange.directory.authenticate("fra.admin", new)
    assert again.keyring.current.public() == france_admin.keyring.current.public()


def test_change_password_needs_the_old_one(exchange: Exchange, france_admin) -> None:
    before = event_count(exchange)
    with pytest.raises(AuthenticationFailed):
        exchange.directory.change_password(france_admin, "not my password", "whatever long one")
    assert event_count(exchange) == before


def test_deactivated_user_cannot_log_in(exchange: Exchange, france_admin) -> None:
    exchange.directory.add_user(france_admin, "fra.analyst", PASSWORD, ["analyst"])
    exchange.directory.deactivate_user(france_admin, "fra.analyst")
    with pytest.raises(AuthenticationFailed):
        exchange.directory.authenticate("fra.analyst", PASSWORD)
    assert not exchange.directory.user("fra.analyst").active


def test_admin_cannot_deactivate_another_states_user(exchange: Exchange, secretariat,
                                                      france_admin) -> None:
    exchange.directory.create_state(secretariat, "DEU", "state_party", "deu.admin", PASSWORD)
    with pytest.raises(NotFound):
        exchange.directory.deactivate_user(france_admin, "deu.admin")
    assert exchange.directory.user("deu.admin").active


def test_rotation_gives_every_user_old_and_new_keys(exchange: Exchange, france_admin) -> None:
    exchange.directory.add_user(france_admin, "fra.analyst", PASSWORD, ["analyst"])
    old_public = exchange.directory.state("FRA").public_keys
    old_key = CaseKey.generate()
    old_wrap = wrap_case_key(old_key, case_id="c", recipient="FRA", recipient_keys=old_public)

    rotated = exchange.directory.rotate_state_keys(france_admin)
    state = exchange.directory.state("FRA")
    assert state.public_keys.version == 2
    assert rotated.keyring.current.public() == state.public_keys
    assert state.public_keys_at(1) == old_public

    analyst = exchange.directory.authenticate("fra.analyst", PASSWORD)
    assert list(analyst.keyring.versions) == [1, 2]
    assert unwrap_case_key(old_wrap, case_id="c", recipient="FRA",
                           keyring=analyst.keyring) == old_key


def test_recovery_secret_resets_a_lost_password(exchange: Exchange, secretariat) -> None:
    secret = exchange.directory.create_state(secretariat, "BRA", "state_party", "bra.admin",
                                             PASSWORD)
    before = exchange.directory.state("BRA").public_keys
    exchange.directory.recover_with_secret("BRA", secret, "bra.admin", "the recovered passphrase")
    admin = exchange.directory.authenticate("bra.admin", "the recovered passphrase")
    assert admin.keyring.current.public() == before


def test_wrong_recovery_secret_is_refused(exchange: Exchange, secretariat) -> None:
    exchange.directory.create_state(secretariat, "BRA", "state_party", "bra.admin", PASSWORD)
    other = exchange.directory.create_state(secretariat, "ARG", "state_party", "arg.admin",
                                            PASSWORD)
    before = event_count(exchange)
    with pytest.raises(AuthenticationFailed):
        exchange.directory.recover_with_secret("BRA", other, "bra.admin", "another passphrase!")
    with pytest.raises(InvalidInput):
        exchange.directory.recover_with_secret("BRA", "not-a-secret", "bra.admin", "x" * 20)
    assert event_count(exchange) == before


def test_contact_point_is_recorded(exchange: Exchange, france_admin) -> None:
    exchange.directory.set_contact_point(france_admin, name="Bureau des exportations",
                                         office="SGDSN", channel="ncp@example.fr",
                                         volunteers_to_assist=True)
    point = exchange.directory.state("FRA").contact_point
    assert point["volunteers_to_assist"] is True
    assert point["channel"] == "ncp@example.fr"
    with pytest.raises(InvalidInput) as refused:
        exchange.directory.set_contact_point(france_admin, name=" ", office="", channel="x",
                                             volunteers_to_assist=False)
    assert refused.value.field == "name"


def test_stale_write_is_a_conflict(exchange: Exchange, france_admin) -> None:
    first = exchange.directory.state("FRA")
    second = exchange.directory.state("FRA")
    entry = {"name": "a", "office": "", "channel": "c", "volunteers_to_assist": False}
    first.set_contact_point(france_admin.actor, entry)
    second.set_contact_point(france_admin.actor, entry)
    exchange.ledger.save_all(first)
    before = event_count(exchange)
    with pytest.raises(Conflict):
        exchange.ledger.save_all(second)
    assert event_count(exchange) == before


def test_contact_point_goes_stale_after_a_year_unconfirmed(exchange: Exchange,
                                                           france_admin) -> None:
    from datetime import timedelta

    with pytest.raises(NotFound):
        exchange.directory.confirm_contact_point(france_admin)
    assert exchange.directory.state("FRA").contact_point_is_stale(datetime.now(UTC))
    exchange.directory.set_contact_point(france_admin, name="NCP", office="", channel="c",
                                         volunteers_to_assist=False)
    state = exchange.directory.state("FRA")
    set_on = state.contact_point["confirmed_on"]
    assert not state.contact_point_is_stale(set_on + timedelta(days=365))
    assert state.contact_point_is_stale(set_on + timedelta(days=366))
    exchange.directory.confirm_contact_point(france_admin)
    confirmed = exchange.directory.state("FRA").contact_point["confirmed_on"]
    assert confirmed > set_on
    assert not exchange.directory.state("FRA").contact_point_is_stale(
        confirmed + timedelta(days=300))


def test_only_a_state_admin_touches_the_contact_point(exchange: Exchange,
                                                       france_admin) -> None:
    exchange.directory.add_user(france_admin, "fra.analyst", PASSWORD, ["analyst"])
    analyst = exchange.directory.authenticate("fra.analyst", PASSWORD)
    with pytest.raises(Forbidden):
        exchange.directory.set_contact_point(analyst, name="x", office="", channel="c",
                                             volunteers_to_assist=True)
