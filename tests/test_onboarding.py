"""Onboarding from an empty store: the secretariat registers a state by inviting its first
admin, who makes the state's keys on acceptance; state admins invite their users. Tested
from the attacker's side: used, revoked, expired or mistyped codes, other states' admins,
roles beyond reach, two acceptances at once, a stolen database."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from cases.audit.log import verify_log
from cases.identity.invitations import ACCEPTED, EXPIRED, REVOKED, Invitation
from cases.kernel.errors import (
    AuthenticationFailed,
    Conflict,
    DivexError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from cases.kernel.viewer import Viewer
from crypto.invitation import InvitationCode
from infra.settings import Settings
from infra.wiring import Exchange
from tests.conftest import PASSWORD, enrolled
from tests.test_no_secrets_at_rest import private_key_forms, raw_database_bytes
from web.cases import open_portal_to_new_parties


def events(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


@pytest.fixture
def secretariat(exchange: Exchange) -> Viewer:
    exchange.directory.initialise("secretariat", PASSWORD)
    return exchange.directory.authenticate("secretariat", PASSWORD)


def onboard_state(exchange: Exchange, secretariat: Viewer, code: str = "FRA") -> Viewer:
    issued = exchange.onboarding.register_state(secretariat, code, "state_party",
                                                f"{code.lower()}.admin")
    return exchange.onboarding.accept(issued.code, "", PASSWORD).unlocked.viewer


def test_registering_a_state_invites_its_first_admin_who_makes_its_keys(
        exchange: Exchange, secretariat: Viewer) -> None:
    onboarding = exchange.onboarding
    issued = onboarding.register_state(secretariat, "mex", "signatory", "mex.admin",
                                       "Ana Pérez")
    assert len(InvitationCode.parse(issued.code).secret) * 8 >= 128
    invitation = onboarding.invitation(issued.invitation.id)
    assert (invitation.state, invitation.roles, invitation.state_status) == (
        "MEX", ["state_admin"], "signatory")
    assert invitation.expires_at - datetime.now(UTC) > timedelta(days=6, hours=23)
    with pytest.raises(NotFound):  # no keys, no state until the admin accepts
        exchange.directory.state("MEX")

    welcome = onboarding.accept(issued.code, "mex.admin", PASSWORD)
    admin = welcome.unlocked.viewer
    state = exchange.directory.state("MEX")
    assert (state.status, admin.state, admin.roles) == ("signatory", "MEX", {"state_admin"})
    assert admin.keyring.current.public() == state.public_keys
    assert welcome.recovery_secret and welcome.unlocked.user.display_name == "Ana Pérez"
    assert exchange.directory.unlock("mex.admin", PASSWORD).keyring.current.public() \
        == state.public_keys
    assert onboarding.invitation(issued.invitation.id).status == ACCEPTED
    # The registration is self-signed by the new key, vouched for by the secretariat's
    # signed invitation: the whole log still verifies.
    assert verify_log(exchange.ledger).ok


def test_state_admin_invites_a_user_who_receives_the_keyring(
        exchange: Exchange, secretariat: Viewer) -> None:
    admin = onboard_state(exchange, secretariat)
    issued = exchange.onboarding.invite_user(admin, "fra.analyst", ["analyst", "reviewer"])
    welcome = exchange.onboarding.accept(issued.code, "fra.analyst", PASSWORD, "Jean")
    analyst = exchange.directory.authenticate("fra.analyst", PASSWORD)
    assert welcome.recovery_secret is None
    assert (analyst.state, analyst.roles) == ("FRA", {"analyst", "reviewer"})
    assert analyst.keyring.to_bytes() == admin.keyring.to_bytes()
    case_id = exchange.cases.open_case(analyst, {"title": "Rifles at the port"})
    assert exchange.cases.view(admin, case_id).title == "Rifles at the port"
    assert verify_log(exchange.ledger).ok


def test_the_secretariat_reads_none_of_the_state_cases_at_any_step(
        exchange: Exchange, secretariat: Viewer) -> None:
    admin = onboard_state(exchange, secretariat)
    issued = exchange.onboarding.invite_user(admin, "fra.analyst", ["analyst"])
    analyst = exchange.onboarding.accept(issued.code, "", PASSWORD).unlocked.viewer
    case_id = exchange.cases.open_case(analyst, {"title": "National only"})
    again = exchange.directory.authenticate("secretariat", PASSWORD)
    with pytest.raises(NotFound):
        exchange.cases.view(again, case_id)
    assert again.keyring.current.public() != exchange.directory.state("FRA").public_keys


@pytest.mark.parametrize("spoil", ["garbage", "wrong secret", "unknown id"])
def test_a_mistyped_or_forged_code_creates_nothing(exchange: Exchange, secretariat: Viewer,
                                                   spoil: str) -> None:
    issued = exchange.onboarding.register_state(secretariat, "FRA", "state_party", "fra.admin")
    code = InvitationCode.parse(issued.code)
    text = {"garbage": issued.code[:-3],
            "wrong secret": str(InvitationCode(code.invitation_id, bytes(32))),
            "unknown id": str(InvitationCode.generate(UUID(int=1)))
            }[spoil]
    before = events(exchange)
    with pytest.raises((InvalidInput, NotFound)) as refused:
        exchange.onboarding.accept(text, "fra.admin", PASSWORD)
    assert refused.value.field == "code"
    assert events(exchange) == before
    with pytest.raises(NotFound):
        exchange.directory.state("FRA")


def test_used_revoked_and_expired_invitations_are_refused(
        exchange: Exchange, secretariat: Viewer) -> None:
    onboarding = exchange.onboarding
    admin = onboard_state(exchange, secretariat)
    used = onboarding.invite_user(admin, "fra.one", ["analyst"])
    onboarding.accept(used.code, "", PASSWORD)
    revoked = onboarding.invite_user(admin, "fra.two", ["analyst"])
    assert onboarding.revoke(admin, revoked.invitation.id).status == REVOKED
    late = onboarding.invite_user(admin, "fra.three", ["analyst"])
    onboarding.clock = lambda: datetime.now(UTC) + timedelta(days=8)
    before = events(exchange)
    for issued, word in ((used, "already used"), (revoked, "revoked"), (late, "expired")):
        with pytest.raises(Conflict) as refused:
            onboarding.accept(issued.code, "", PASSWORD)
        assert word in refused.value.message and refused.value.field == "code"
    assert events(exchange) == before
    with pytest.raises(NotFound):
        exchange.directory.user("fra.three")
    fourth = onboarding.invite_user(admin, "fra.four", ["analyst"])  # an admin's act
    assert onboarding.invitation(late.invitation.id).status == EXPIRED
    assert onboarding.expire_overdue(admin) == 0
    with exchange.ledger.transaction() as session:  # what the closed ones carried is gone
        assert [row.invitation_id for row in onboarding.store.of_state(session, "FRA")] == [
            str(fourth.invitation.id)]


def test_invitation_expiry_is_a_setting(exchange: Exchange, secretariat: Viewer) -> None:
    exchange.onboarding.invitation_days = 2
    issued = exchange.onboarding.register_state(secretariat, "FRA", "state_party", "fra.admin")
    left = issued.invitation.expires_at - datetime.now(UTC)
    assert timedelta(days=1, hours=23) < left <= timedelta(days=2)


def test_admins_manage_only_their_own_state(exchange: Exchange, secretariat: Viewer) -> None:
    onboarding = exchange.onboarding
    fra, deu = onboard_state(exchange, secretariat, "FRA"), onboard_state(exchange, secretariat,
                                                                            "DEU")
    pending = onboarding.invite_user(fra, "fra.analyst", ["analyst"])
    analyst = onboarding.accept(pending.code, "", PASSWORD).unlocked.viewer
    other = onboarding.invite_user(fra, "fra.reviewer", ["reviewer"])
    before = events(exchange)
    with pytest.raises(InvalidInput) as refused:
        onboarding.invite_user(fra, "fra.boss", ["secretariat"])
    assert refused.value.field == "roles"
    with pytest.raises(Forbidden):
        onboarding.invite_user(analyst, "fra.friend", ["analyst"])
    with pytest.raises(Forbidden):
        onboarding.register_state(fra, "ITA", "state_party", "ita.admin")
    with pytest.raises(NotFound):
        onboarding.revoke(deu, other.invitation.id)
    with pytest.raises(Forbidden):
        onboarding.revoke(analyst, other.invitation.id)
    with pytest.raises(NotFound):
        onboarding.change_roles(deu, "fra.analyst", ["reviewer"])
    with pytest.raises(NotFound):
        onboarding.deactivate(deu, "fra.analyst")
    with pytest.raises(NotFound):
        onboarding.users(deu, "FRA")
    with pytest.raises(NotFound):  # the secretariat revokes first-admin invitations only
        onboarding.revoke(secretariat, other.invitation.id)
    assert events(exchange) == before
    assert [i.username for i in onboarding.invitations(deu)] == []
    # What DEU's admin invites is DEU's, whatever the name looks like.
    issued = onboarding.invite_user(deu, "fra.spy", ["analyst"])
    spy = onboarding.accept(issued.code, "", PASSWORD).unlocked.viewer
    assert spy.state == "DEU"
    with pytest.raises(NotFound):
        exchange.cases.view(spy, exchange.cases.open_case(analyst, {"title": "French"}))


def test_a_name_taken_or_promised_is_refused_next_to_the_field(
        exchange: Exchange, secretariat: Viewer) -> None:
    admin = onboard_state(exchange, secretariat)
    exchange.onboarding.invite_user(admin, "fra.analyst", ["analyst"])
    for name in ("fra.admin", "FRA.Analyst", "secretariat"):
        with pytest.raises(Conflict) as refused:
            exchange.onboarding.invite_user(admin, name, ["analyst"])
        assert refused.value.field == "username"
    with pytest.raises(Conflict):
        exchange.onboarding.register_state(secretariat, "FRA", "state_party", "x.admin")
    with pytest.raises(InvalidInput) as refused:
        exchange.onboarding.register_state(secretariat, "ZZZ", "state_party", "z.admin")
    assert refused.value.field == "code"


def test_registering_twice_while_an_invitation_is_pending_is_refused(
        exchange: Exchange, secretariat: Viewer) -> None:
    first = exchange.onboarding.register_state(secretariat, "FRA", "state_party", "fra.admin")
    with pytest.raises(Conflict) as refused:
        exchange.onboarding.register_state(secretariat, "FRA", "signatory", "fra.boss")
    assert refused.value.field == "code"
    exchange.onboarding.revoke(secretariat, first.invitation.id)
    second = exchange.onboarding.register_state(secretariat, "FRA", "signatory", "fra.boss")
    exchange.onboarding.accept(second.code, "", PASSWORD)
    assert exchange.directory.state("FRA").status == "signatory"


def test_the_invitee_must_use_the_name_they_were_given(exchange: Exchange,
                                                       secretariat: Viewer) -> None:
    issued = exchange.onboarding.register_state(secretariat, "FRA", "state_party", "fra.admin")
    with pytest.raises(InvalidInput) as refused:
        exchange.onboarding.accept(issued.code, "fra.other", PASSWORD)
    assert refused.value.field == "username"
    with pytest.raises(InvalidInput) as refused:
        exchange.onboarding.accept(issued.code, "fra.admin", "short")
    assert refused.value.field == "password"
    exchange.onboarding.accept(issued.code, "fra.admin", PASSWORD)


def test_two_acceptances_at_once_one_wins(exchange: Exchange, secretariat: Viewer) -> None:
    issued = exchange.onboarding.register_state(secretariat, "FRA", "state_party", "fra.admin")
    start, outcomes = threading.Barrier(2), []

    def accept() -> None:
        start.wait()
        try:
            exchange.onboarding.accept(issued.code, "", PASSWORD)
            outcomes.append("ok")
        except DivexError as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["Conflict", "ok"]
    assert verify_log(exchange.ledger).ok


def test_the_last_state_admin_keeps_the_role(exchange: Exchange, secretariat: Viewer) -> None:
    admin = onboard_state(exchange, secretariat)
    before = events(exchange)
    with pytest.raises(Conflict) as refused:
        exchange.onboarding.change_roles(admin, "fra.admin", ["analyst"])
    assert "last state admin" in refused.value.message
    assert events(exchange) == before
    second = exchange.onboarding.invite_user(admin, "fra.admin2", ["state_admin"])
    exchange.onboarding.accept(second.code, "", PASSWORD)
    exchange.onboarding.change_roles(admin, "fra.admin", ["analyst", "state_admin"])
    assert exchange.directory.user("fra.admin").roles == ["analyst", "state_admin"]
    admin2 = exchange.directory.authenticate("fra.admin2", PASSWORD)
    exchange.onboarding.change_roles(admin2, "fra.admin", ["analyst"])
    assert exchange.directory.user("fra.admin").roles == ["analyst"]
    exchange.onboarding.deactivate(admin2, "fra.admin")
    assert not exchange.directory.user("fra.admin").active
    assert [u.username for u in exchange.onboarding.users(admin2)] == ["fra.admin",
                                                                        "fra.admin2"]


def test_a_pending_invitation_follows_a_key_rotation(exchange: Exchange,
                                                     secretariat: Viewer) -> None:
    admin = onboard_state(exchange, secretariat)
    issued = exchange.onboarding.invite_user(admin, "fra.analyst", ["analyst"])
    rotated = exchange.onboarding.rotate_keys(admin)
    analyst = exchange.onboarding.accept(issued.code, "", PASSWORD).unlocked.viewer
    assert analyst.keyring.versions == (1, 2) == rotated.keyring.versions


def test_a_stolen_database_holds_no_invitation_secret_or_keyring(
        exchange: Exchange, settings: Settings, secretariat: Viewer) -> None:
    admin = onboard_state(exchange, secretariat)
    pending = exchange.onboarding.invite_user(admin, "fra.analyst", ["analyst"])
    first = exchange.onboarding.register_state(secretariat, "DEU", "state_party", "deu.admin")
    exchange.ledger.recorder.datastore.engine.dispose()
    dump = raw_database_bytes(settings)
    assert b"fra.analyst" in dump
    for text in (pending.code, first.code):
        secret = InvitationCode.parse(text).secret
        for form in (secret, secret.hex().encode(), base64.b64encode(secret),
                     base64.urlsafe_b64encode(secret).rstrip(b"="), text.encode()):
            assert form not in dump
    for form in private_key_forms(admin):
        assert form not in dump


def test_events_of_an_invitation_are_in_the_log(exchange: Exchange,
                                                secretariat: Viewer) -> None:
    issued = exchange.onboarding.register_state(secretariat, "FRA", "state_party", "fra.admin")
    exchange.onboarding.accept(issued.code, "", PASSWORD)
    invitation = exchange.ledger.repository.get(issued.invitation.id)
    assert isinstance(invitation, Invitation) and invitation.version == 2
    assert invitation.issued_by == secretariat.user_id


def test_a_deactivated_user_comes_back_through_an_invitation(
        exchange: Exchange, secretariat: Viewer) -> None:
    onboarding = exchange.onboarding
    admin = onboard_state(exchange, secretariat)
    issued = onboarding.invite_user(admin, "fra.auditor", ["auditor"])
    auditor = onboarding.accept(issued.code, "", PASSWORD).unlocked.viewer
    enrolled(exchange.directory, auditor)
    with pytest.raises(Conflict):  # active: nothing to reactivate
        onboarding.reactivate(admin, "fra.auditor")
    onboarding.deactivate(admin, "fra.auditor")
    back = onboarding.reactivate(admin, "fra.auditor")
    assert back.invitation.roles == ["auditor"]
    with pytest.raises(Conflict):
        onboarding.reactivate(admin, "fra.auditor")
    new_password = "another long passphrase"
    welcome = onboarding.accept(back.code, "fra.auditor", new_password)
    user = exchange.directory.user("fra.auditor")
    assert user.active and not user.second_factor and user.needs_second_factor
    assert welcome.unlocked.viewer.keyring.to_bytes() == admin.keyring.to_bytes()
    assert exchange.directory.unlock("fra.auditor", new_password).user.username == "fra.auditor"
    assert verify_log(exchange.ledger).ok


def test_a_suspended_state_cannot_sign_in_until_reinstated(
        exchange: Exchange, secretariat: Viewer) -> None:
    onboarding = exchange.onboarding
    admin = onboard_state(exchange, secretariat)
    token, _info = exchange.api_tokens.issue(admin, PASSWORD, "t", [], 30)
    with pytest.raises(Forbidden):
        onboarding.suspend_state(admin, "FRA")
    with pytest.raises(InvalidInput):
        onboarding.suspend_state(secretariat, "XAT")
    assert onboarding.suspend_state(secretariat, "fra").suspended
    with pytest.raises(AuthenticationFailed) as refused:
        exchange.directory.unlock("fra.admin", PASSWORD)
    assert "suspended" in refused.value.message
    with pytest.raises(AuthenticationFailed):
        exchange.api_tokens.authenticate(token)
    with pytest.raises(Conflict):
        onboarding.suspend_state(secretariat, "FRA")
    onboarding.reinstate_state(secretariat, "FRA")
    assert exchange.directory.unlock("fra.admin", PASSWORD).user.state == "FRA"
    assert exchange.api_tokens.authenticate(token).state == "FRA"


def test_a_signatory_that_ratifies_is_on_the_portal_from_then_on(
        exchange: Exchange, secretariat: Viewer) -> None:
    fra = onboard_state(exchange, secretariat, "FRA")
    issued = exchange.onboarding.register_state(secretariat, "UKR", "signatory", "ukr.admin")
    exchange.onboarding.accept(issued.code, "", PASSWORD)
    assert "UKR" not in exchange.cases.audience(fra, "portal", None)
    before = events(exchange)
    with pytest.raises(Conflict):
        exchange.onboarding.change_state_status(secretariat, "UKR", "signatory")
    with pytest.raises(InvalidInput):
        exchange.onboarding.change_state_status(secretariat, "UKR", "member")
    with pytest.raises(Forbidden):
        exchange.onboarding.change_state_status(fra, "UKR", "state_party")
    assert events(exchange) == before
    exchange.onboarding.change_state_status(secretariat, "UKR", "state_party")
    assert "UKR" in exchange.cases.audience(fra, "portal", None)
    assert verify_log(exchange.ledger).ok


def test_a_state_that_lost_its_admins_gets_one_with_its_recovery_secret(
        exchange: Exchange, secretariat: Viewer) -> None:
    onboarding = exchange.onboarding
    issued = onboarding.register_state(secretariat, "FRA", "state_party", "fra.admin")
    welcome = onboarding.accept(issued.code, "", PASSWORD)
    admin = welcome.unlocked.viewer
    with pytest.raises(Forbidden):
        onboarding.reinvite_state_admin(admin, "FRA", "fra.boss")
    again = onboarding.reinvite_state_admin(secretariat, "FRA", "fra.newadmin")
    assert again.invitation.roles == ["state_admin"]
    before = events(exchange)
    with pytest.raises(InvalidInput) as refused:  # the secretariat alone cannot get in
        onboarding.accept(again.code, "", PASSWORD)
    assert refused.value.field == "recovery_secret"
    wrong = "-".join(["AAAA"] * 13)
    with pytest.raises(AuthenticationFailed) as refused:
        onboarding.accept(again.code, "", PASSWORD, recovery_secret=wrong)
    assert refused.value.field == "recovery_secret"
    assert events(exchange) == before
    new_admin = onboarding.accept(again.code, "", PASSWORD,
                                  recovery_secret=welcome.recovery_secret or "").unlocked.viewer
    assert new_admin.has("state_admin") and new_admin.keyring.to_bytes() == \
        admin.keyring.to_bytes()
    assert verify_log(exchange.ledger).ok


def test_no_one_joins_a_suspended_state(exchange: Exchange, secretariat: Viewer) -> None:
    admin = onboard_state(exchange, secretariat)
    issued = exchange.onboarding.invite_user(admin, "fra.analyst", ["analyst"])
    exchange.onboarding.suspend_state(secretariat, "FRA")
    before = events(exchange)
    with pytest.raises(Conflict) as refused:
        exchange.onboarding.accept(issued.code, "", PASSWORD)
    assert "suspended" in refused.value.message and events(exchange) == before


def test_a_revocation_racing_an_acceptance_one_wins(exchange: Exchange,
                                                    secretariat: Viewer) -> None:
    admin = onboard_state(exchange, secretariat)
    issued = exchange.onboarding.invite_user(admin, "fra.analyst", ["analyst"])
    start, outcomes = threading.Barrier(2), {}

    def run(name: str, act: Any) -> None:
        start.wait()
        try:
            act()
            outcomes[name] = "ok"
        except DivexError as error:
            outcomes[name] = type(error).__name__

    threads = [threading.Thread(target=run, args=("accept", lambda: exchange.onboarding.accept(
                   issued.code, "", PASSWORD))),
               threading.Thread(target=run, args=("revoke", lambda: exchange.onboarding.revoke(
                   admin, issued.invitation.id)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["Conflict", "ok"], outcomes
    status = exchange.onboarding.invitation(issued.invitation.id).status
    assert status == ("accepted" if outcomes["accept"] == "ok" else "revoked")
    assert (exchange.directory.find(exchange.directory.user("fra.analyst").id) is not None) \
        if status == "accepted" else True


def test_an_invitation_dies_with_its_issuers_power_to_invite(exchange: Exchange,
                                                             secretariat: Viewer) -> None:
    onboarding = exchange.onboarding
    admin = onboard_state(exchange, secretariat)
    second = onboarding.accept(onboarding.invite_user(admin, "fra.admin2", ["state_admin"]).code,
                               "", PASSWORD).unlocked.viewer
    by_first = onboarding.invite_user(admin, "fra.analyst", ["analyst"])
    by_second = onboarding.invite_user(second, "fra.reviewer", ["reviewer"])
    onboarding.deactivate(second, "fra.admin")
    before = events(exchange)
    with pytest.raises(Conflict) as refused:
        onboarding.accept(by_first.code, "", PASSWORD)
    assert "can no longer invite" in refused.value.message and refused.value.field == "code"
    assert events(exchange) == before
    with pytest.raises(NotFound):
        exchange.directory.user("fra.analyst")
    # An admin who became a plain analyst cannot admit anyone either.
    third = onboarding.accept(onboarding.invite_user(second, "fra.admin3", ["state_admin"]).code,
                              "", PASSWORD).unlocked.viewer
    onboarding.change_roles(third, "fra.admin2", ["analyst"])
    with pytest.raises(Conflict):
        onboarding.accept(by_second.code, "", PASSWORD)
    # The secretariat's invitation of a first admin stands while the secretariat does.
    first = onboarding.register_state(secretariat, "DEU", "state_party", "deu.admin")
    assert onboarding.accept(first.code, "", PASSWORD).unlocked.viewer.state == "DEU"


def test_portal_cases_reach_a_state_that_ratifies_at_the_owners_next_list(
        exchange: Exchange, secretariat: Viewer) -> None:
    onboarding, cases = exchange.onboarding, exchange.cases
    fra_admin = onboard_state(exchange, secretariat, "FRA")
    onboard_state(exchange, secretariat, "DEU")
    fra = onboarding.accept(onboarding.invite_user(fra_admin, "fra.analyst", ["analyst"]).code,
                            "", PASSWORD).unlocked.viewer
    ukr_admin = onboarding.accept(onboarding.register_state(
        secretariat, "UKR", "signatory", "ukr.admin").code, "", PASSWORD).unlocked.viewer
    ukr = onboarding.accept(onboarding.invite_user(ukr_admin, "ukr.analyst", ["analyst"]).code,
                            "", PASSWORD).unlocked.viewer
    on_portal = cases.open_case(fra, {"title": "On the portal"})
    cases.share(fra, on_portal, 1, "portal")
    withdrawn = cases.open_case(fra, {"title": "Shared, then narrowed"})
    cases.share(fra, withdrawn, 1, "portal")
    cases.unshare(fra, withdrawn, 2, ["DEU"])
    national = cases.open_case(fra, {"title": "National"})
    onboarding.change_state_status(secretariat, "UKR", "state_party")
    exchange.follow()
    with pytest.raises(NotFound):
        cases.view(ukr, on_portal)
    assert open_portal_to_new_parties(exchange, fra_admin) == {}  # no analyst: no keys moved
    assert open_portal_to_new_parties(exchange, fra) == {str(on_portal): ["UKR"]}
    assert cases.view(ukr, on_portal).title == "On the portal"
    assert cases.view(ukr, on_portal).recipients == ["DEU", "FRA", "UKR"]
    for case_id in (withdrawn, national):
        with pytest.raises(NotFound):
            cases.view(ukr, case_id)
    assert open_portal_to_new_parties(exchange, fra) == {}  # done once
    # The share is in the log, signed by the analyst whose request made it.
    shared = [e for e in exchange.ledger.events.get(on_portal)
              if type(e).__name__ == "Shared"][-1]
    assert shared.added == ["UKR"] and shared.actor_user == fra.user_id
    assert verify_log(exchange.ledger).ok


def test_a_state_that_ratifies_after_the_owners_last_check_is_not_forgotten(
        exchange: Exchange, secretariat: Viewer) -> None:
    """The owner's list checks its portal cases once for the same States Parties (the
    query reads all of them); a party that joins is looked for at the next list."""
    onboarding, cases = exchange.onboarding, exchange.cases
    fra_admin = onboard_state(exchange, secretariat, "FRA")
    fra = onboarding.accept(onboarding.invite_user(fra_admin, "fra.analyst", ["analyst"]).code,
                            "", PASSWORD).unlocked.viewer
    onboarding.accept(onboarding.register_state(
        secretariat, "UKR", "signatory", "ukr.admin").code, "", PASSWORD)
    on_portal = cases.open_case(fra, {"title": "On the portal"})
    cases.share(fra, on_portal, 1, "portal")
    exchange.follow()
    assert open_portal_to_new_parties(exchange, fra) == {}  # nothing lacks: remembered
    onboarding.change_state_status(secretariat, "UKR", "state_party")
    exchange.follow()
    assert open_portal_to_new_parties(exchange, fra) == {str(on_portal): ["UKR"]}
