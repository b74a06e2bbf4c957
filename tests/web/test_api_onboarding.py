"""Onboarding through the JSON API: a state registered, its admin and an analyst onboarded
with tokens and codes only; every new operation answered exactly as each role and state may;
refusals are JSON with the field, and store nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from infra.wiring import Exchange, open_exchange, prepare_store
from tests.conftest import PASSWORD, make_settings, register_states
from web import create_app
from web.api.spec import OPERATIONS

USERS = ("FRA", "FRA.reviewer", "FRA.admin", "DEU.admin", "secretariat")


@pytest.fixture
def world(tmp_path: Any) -> Iterator[dict[str, Any]]:
    settings = make_settings(tmp_path)
    prepare_store(settings)
    exchange: Exchange = open_exchange(settings)
    people = register_states(exchange.directory, ("FRA", "DEU"), roles=("analyst", "reviewer"))
    app = create_app(exchange, {"TESTING": True, "API_RATE_LIMIT": "100000 per minute"})
    tokens = {u: exchange.api_tokens.issue(people[u], PASSWORD, "t", [], 30)[0] for u in USERS}
    yield {"exchange": exchange, "people": people, "client": app.test_client(),
           "tokens": tokens}
    exchange.close()


def call(world: dict[str, Any], method: str, path: str, user: str | None = None,
         body: dict[str, Any] | None = None) -> Any:
    client: FlaskClient = world["client"]
    headers = {"Authorization": f"Bearer {world['tokens'][user]}"} if user else {}
    return client.open("/api/v1" + path, method=method, headers=headers, json=body)


def events(world: dict[str, Any]) -> int:
    return world["exchange"].ledger.recorder.max_notification_id() or 0


def test_a_state_onboarded_through_the_api(world: dict[str, Any]) -> None:
    exchange: Exchange = world["exchange"]
    response = call(world, "POST", "/directory/states", "secretariat", {
        "code": "ita", "status": "signatory", "admin_username": "ita.admin"})
    assert response.status_code == 201, response.json
    issued = response.json
    assert issued["invitation"]["state"] == "ITA" and issued["invitation"]["status"] == "pending"
    accepted = call(world, "POST", "/invitations/acceptance", body={
        "code": issued["code"], "username": "ita.admin", "password": PASSWORD})
    assert accepted.status_code == 201, accepted.json
    assert accepted.json["second_factor_required"] and accepted.json["recovery_secret"]
    assert exchange.directory.state("ITA").status == "signatory"
    admin = exchange.directory.authenticate("ita.admin", PASSWORD)
    world["tokens"]["ITA.admin"] = exchange.api_tokens.issue(admin, PASSWORD, "t", [], 30)[0]
    invited = call(world, "POST", "/invitations", "ITA.admin", {
        "username": "ita.analyst", "roles": ["analyst"], "display_name": "Marco"})
    assert invited.status_code == 201, invited.json
    accepted = call(world, "POST", "/invitations/acceptance", body={
        "code": invited.json["code"], "username": "ita.analyst", "password": PASSWORD})
    assert accepted.status_code == 201 and accepted.json["recovery_secret"] is None
    listed = call(world, "GET", "/directory/users", "ITA.admin").json
    assert [u["username"] for u in listed["items"]] == ["ita.admin", "ita.analyst"]
    assert call(world, "GET", "/invitations", "ITA.admin").json["items"][0]["status"] \
        == "accepted"
    again = call(world, "POST", "/invitations/acceptance", body={
        "code": invited.json["code"], "username": "ita.analyst", "password": PASSWORD})
    assert again.status_code == 409 and again.json["field"] == "code"
    rotated = call(world, "POST", "/directory/keys/rotation", "ITA.admin")
    assert rotated.json == {"state": "ITA", "key_version": 2}
    # The token follows the rotation: it opens the user key, which opens the new keyring.
    assert call(world, "GET", "/directory/users", "ITA.admin").status_code == 200


def test_refusals_are_json_with_the_field_and_store_nothing(world: dict[str, Any]) -> None:
    before = events(world)
    cases = [
        ("POST", "/directory/states", "secretariat", {"code": "ZZZ", "status": "signatory",
                                                      "admin_username": "z.admin"},
         422, "code"),
        ("POST", "/directory/states", "secretariat", {"code": "FRA", "status": "signatory",
                                                      "admin_username": "f.admin"},
         409, "code"),
        ("POST", "/invitations", "FRA.admin", {"username": "fra.analyst",
                                               "roles": ["analyst"]}, 409, "username"),
        ("POST", "/invitations", "FRA.admin", {"username": "fra.boss",
                                               "roles": ["secretariat"]}, 422, "roles"),
        ("POST", "/invitations", "FRA.admin", {"username": "fra.boss", "roles": []},
         422, "roles"),
        ("POST", "/invitations/acceptance", None, {"code": "dvi_x.y", "username": "a.b.c",
                                                   "password": PASSWORD}, 422, "code"),
        ("PUT", "/directory/users/fra.admin/roles", "FRA.admin", {"roles": ["analyst"]},
         409, "username"),
    ]
    for method, path, user, body, status, field in cases:
        response = call(world, method, path, user, body)
        assert response.status_code == status, (path, response.json)
        assert response.json["field"] == field and response.json["message"]
    assert events(world) == before


# operation id -> who may: "secretariat", "state_admin" (own state), "anyone" (no token).
WHO = {"register_state": "secretariat", "list_invitations": "any admin",
       "invite_user": "state_admin", "revoke_invitation": "state_admin",
       "accept_invitation": "anyone", "list_users": "any admin",
       "change_roles": "state_admin", "deactivate_user": "state_admin",
       "rotate_keys": "state_admin", "reactivate_user": "state_admin",
       "change_state_status": "secretariat", "suspend_state": "secretariat",
       "reinstate_state": "secretariat", "reinvite_state_admin": "secretariat"}
ONBOARDING = [op for op in OPERATIONS if op.tag == "onboarding"]


def test_every_onboarding_operation_is_in_the_matrix() -> None:
    assert {op.operation_id for op in ONBOARDING} == set(WHO)


@pytest.mark.parametrize("user", USERS)
def test_every_token_gets_exactly_the_allowed_result(world: dict[str, Any], user: str) -> None:
    exchange: Exchange = world["exchange"]
    viewer = world["people"][user]
    pending, accepted = (exchange.onboarding.invite_user(world["people"]["FRA.admin"], name,
                                                         ["reviewer"])
                         for name in ("fra.pending", "fra.accepting"))
    samples = {
        "register_state": ("/directory/states", {"code": "ITA", "status": "state_party",
                                                 "admin_username": "ita.admin"}),
        "list_invitations": ("/invitations", None),
        "invite_user": ("/invitations", {"username": "x.new", "roles": ["reviewer"]}),
        "revoke_invitation": (f"/invitations/{pending.invitation.id}", None),
        "accept_invitation": ("/invitations/acceptance", {"code": accepted.code,
                                                          "username": "fra.accepting",
                                                          "password": PASSWORD}),
        "list_users": ("/directory/users", None),
        "change_roles": ("/directory/users/fra.reviewer/roles", {"roles": ["analyst"]}),
        "deactivate_user": ("/directory/users/fra.reviewer/deactivation", None),
        "rotate_keys": ("/directory/keys/rotation", None),
        "reactivate_user": ("/directory/users/fra.reviewer/reactivation", None),
        "change_state_status": ("/directory/states/DEU/status", {"status": "signatory"}),
        "suspend_state": ("/directory/states/DEU/suspension", None),
        "reinstate_state": ("/directory/states/DEU/suspension", None),
        "reinvite_state_admin": ("/directory/states/DEU/admin-invitation",
                                 {"username": "deu.newadmin"}),
    }
    # Deactivation before reactivation; acceptance last.
    order = ["deactivate_user", "reactivate_user", "suspend_state", "reinstate_state",
             "accept_invitation"]
    for op in sorted(ONBOARDING, key=lambda op: (op.operation_id in order,
                                                 order.index(op.operation_id)
                                                 if op.operation_id in order else 0)):
        path, body = samples[op.operation_id]
        who = WHO[op.operation_id]
        before = events(world)
        response = call(world, op.method, path, user, body)
        may = (who == "anyone" or viewer.has(who)
               or (who == "any admin" and (viewer.has("state_admin")
                                           or viewer.has("secretariat"))))
        fra_only = op.operation_id in ("revoke_invitation", "change_roles", "deactivate_user",
                                       "reactivate_user")
        if not may:
            assert response.status_code in (403, 404), (op.operation_id, response.json)
            if fra_only and viewer.state == "FRA":
                assert response.status_code == 403, (op.operation_id, response.json)
            assert events(world) == before
        elif fra_only and viewer.state != "FRA":
            assert response.status_code == 404, (op.operation_id, response.json)
            assert events(world) == before
        else:
            # Allowed: never refused for access (a sample may not fit the secretariat's
            # own roles: 422).
            assert response.status_code not in (401, 403, 404), (op.operation_id,
                                                                  response.json)
        if response.status_code >= 400:
            assert set(response.json) == {"error", "message", "field"}


def test_accepting_needs_no_token_and_the_document_lists_it(world: dict[str, Any]) -> None:
    document = world["client"].get("/api/v1/openapi.json").json
    entry = document["paths"]["/invitations/acceptance"]["post"]
    assert entry["security"] == []
    assert "/directory/states" in document["paths"] and "post" in \
        document["paths"]["/directory/states"]
    assert call(world, "GET", "/invitations").status_code == 401
