"""The JSON API: tokens issued on the account page, case operations as the pages allow them,
JSON errors, pagination, and every refusal seen from the attacker's side."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import Browser, events

SUMMARY = {"title": "Rifles found in a cache near the border",
           "narrative": "Forty rifles with erased serials.",
           "point_of_diversion": "at_or_after_delivery",
           "concerned": {"exporter": "DEU", "discovery": "MLI"}}
ITEM = {"category": "small_arms", "quantity": 40, "serial": "SN-123", "make": "Acme",
        "year": 2011, "flags": ["modular"]}


class Api:
    """A national system calling the API with one token."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client, self.token = client, token

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


def token_for(exchange: Exchange, viewer: Viewer, roles: list[str] | None = None,
              days: int = 30) -> str:
    return exchange.api_tokens.issue(viewer, PASSWORD, "national system", roles or [], days)[0]


@pytest.fixture
def api(app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> Api:
    """fra.analyst's token."""
    return Api(app.test_client(), token_for(exchange, people["FRA"]))


def open_case(api: Api) -> dict[str, Any]:
    response = api.call("POST", "/cases", json=SUMMARY)
    assert response.status_code == 201, response.json
    return response.json


def test_an_analyst_logs_and_builds_a_case_through_the_api(api: Api) -> None:
    case = open_case(api)
    assert case["summary"]["title"] == SUMMARY["title"] and case["recipients"] == ["FRA"]
    response = api.call("POST", f"/cases/{case['id']}/items",
                        json=dict(ITEM, expected_version=case["version"]))
    assert response.status_code == 201
    (item,) = response.json["items"].values()
    assert (item["serial"], item["quantity"], item["flags"]) == ("SN-123", 40, ["modular"])
    response = api.call("POST", f"/cases/{case['id']}/status", json={
        "expected_version": response.json["version"], "status": "under_investigation",
        "reason": "Serials checked."})
    assert response.json["status"] == "under_investigation"
    history = api.call("GET", f"/cases/{case['id']}/history").json["items"]
    assert [h["event"] for h in history] == ["Opened", "PartAdded", "StatusChanged"]
    assert history[2]["content"] == {"reason": "Serials checked."}


def test_sharing_through_the_api_lets_the_other_state_read(
        api: Api, app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    case = open_case(api)
    deu = Api(app.test_client(), token_for(exchange, people["DEU"]))
    assert deu.call("GET", f"/cases/{case['id']}").status_code == 404
    shared = api.call("POST", f"/cases/{case['id']}/sharing", json={
        "expected_version": case["version"], "tier": "bilateral", "states": ["deu"]})
    assert shared.status_code == 200 and shared.json["added"] == ["DEU"]
    assert deu.call("GET", f"/cases/{case['id']}").json["summary"]["title"] == SUMMARY["title"]
    # A reader who is not of the owner state may not change it, and nothing is stored.
    before = events(exchange)
    refused = deu.call("PUT", f"/cases/{case['id']}/summary",
                       json=dict(SUMMARY, expected_version=shared.json["case"]["version"]))
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    assert events(exchange) == before


def test_a_share_preview_names_the_readers_and_changes_nothing(
        api: Api, exchange: Exchange) -> None:
    case = open_case(api)
    before = events(exchange)
    preview = api.call("GET", f"/cases/{case['id']}/sharing/preview",
                       query_string={"tier": "bilateral", "states": ["deu", "MLI"]})
    assert preview.status_code == 200, preview.json
    assert preview.json == {"readers": ["DEU", "FRA", "MLI"], "added": ["DEU", "MLI"]}
    assert events(exchange) == before
    assert api.call("GET", f"/cases/{case['id']}").json["recipients"] == ["FRA"]
    unknown = api.call("GET", f"/cases/{case['id']}/sharing/preview",
                       query_string={"tier": "bilateral", "states": ["XXX"]})
    assert (unknown.status_code, unknown.json["field"]) == (422, "states")
    assert unknown.json["message"] == "XXX is not a registered state."


def test_the_stix_export_holds_only_the_cases_the_state_reads(
        api: Api, app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    shared, national = open_case(api), api.call("POST", "/cases", json=dict(
        SUMMARY, title="National only: pistols in a car boot")).json
    api.call("POST", f"/cases/{shared['id']}/sharing", json={
        "expected_version": shared["version"], "tier": "bilateral", "states": ["DEU"]})
    deu = Api(app.test_client(), token_for(exchange, people["DEU"]))
    bundle = deu.call("GET", "/exports/stix")
    assert bundle.status_code == 200 and bundle.json["type"] == "bundle"
    reports = [o for o in bundle.json["objects"] if o["type"] == "report"]
    assert [r["name"] for r in reports] == [SUMMARY["title"]]
    assert national["id"] not in bundle.text and "pistols" not in bundle.text
    own = api.call("GET", "/exports/stix").json
    assert len([o for o in own["objects"] if o["type"] == "report"]) == 2


def test_another_states_token_learns_nothing_of_a_case(
        api: Api, app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    case = open_case(api)
    mli = Api(app.test_client(), token_for(exchange, people["MLI"]))
    before = events(exchange)
    for method, path, body in (
            ("GET", f"/cases/{case['id']}", None),
            ("GET", f"/cases/{case['id']}/history", None),
            ("PUT", f"/cases/{case['id']}/summary", dict(SUMMARY, expected_version=1)),
            ("POST", f"/cases/{case['id']}/items", dict(ITEM, expected_version=1)),
            ("POST", f"/cases/{case['id']}/sharing",
             {"expected_version": 1, "tier": "bilateral", "states": ["MLI"]})):
        response = mli.call(method, path, json=body)
        assert response.status_code == 404, (method, path, response.json)
        assert SUMMARY["title"] not in response.get_data(as_text=True)
    assert mli.call("GET", "/cases").json["total"] == 0
    assert events(exchange) == before


@pytest.mark.parametrize("forge", ["flip_secret", "other_id", "garbage", "empty", "basic"])
def test_a_forged_token_is_refused(api: Api, app: Flask, exchange: Exchange,
                                   forge: str) -> None:
    open_case(api)
    good = api.token
    token_id, secret = good[4:].split(".")
    header = {
        "flip_secret": f"Bearer dvx_{token_id}.{secret[:-2]}{'A' if secret[-2] != 'A' else 'B'}"
                       f"{secret[-1]}",
        "other_id": f"Bearer dvx_{'A' * len(token_id)}.{secret}",
        "garbage": "Bearer not-a-token",
        "empty": "Bearer ",
        "basic": "Basic ZnJhLmFuYWx5c3Q6Y29ycmVjdCBob3JzZQ==",
    }[forge]
    response = app.test_client().get("/api/v1/cases", headers={"Authorization": header})
    assert response.status_code == 401 and response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert SUMMARY["title"] not in response.get_data(as_text=True)


def test_a_signed_in_browser_cookie_does_not_open_the_api(app: Flask,
                                                          analyst: Browser) -> None:
    """Only the bearer header authenticates: a page elsewhere cannot use the session (CSRF)."""
    response = analyst.client.post("/api/v1/cases", json=SUMMARY)
    assert response.status_code == 401
    assert analyst.get("/cases/").status_code == 200  # the session itself is fine


def test_revoked_expired_and_password_changed_tokens_stop_working(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    viewer = people["FRA"]
    revoked, expiring, kept = (token_for(exchange, viewer, days=d) for d in (30, 1, 30))
    client = app.test_client()

    def status(token: str) -> int:
        return client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}
                          ).status_code

    assert {status(t) for t in (revoked, expiring, kept)} == {200}
    revoked_id = revoked[4:].split(".")[0]
    exchange.api_tokens.revoke(viewer, revoked_id)
    assert status(revoked) == 401 and status(kept) == 200
    today = exchange.api_tokens.today
    exchange.api_tokens.today = lambda: today() + timedelta(days=2)
    assert status(expiring) == 401 and status(kept) == 200
    exchange.api_tokens.today = today
    exchange.directory.change_password(viewer, PASSWORD, "another long passphrase 42")
    assert status(kept) == 401
    assert exchange.api_tokens.of(viewer) == []


def test_a_deactivated_users_token_stops_working(app: Flask, exchange: Exchange,
                                                people: dict[str, Viewer]) -> None:
    token = token_for(exchange, people["FRA.reviewer"])
    client = app.test_client()
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200
    exchange.directory.deactivate_user(people["FRA.admin"], "fra.reviewer")
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 401


def test_a_token_acts_only_with_the_roles_it_was_given(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    admin = people["FRA.admin"]
    exchange.directory.add_user(admin, "fra.both", PASSWORD, ["analyst", "reviewer"])
    both = exchange.directory.authenticate("fra.both", PASSWORD)
    read_only = Api(app.test_client(), token_for(exchange, both, ["reviewer"]))
    before = events(exchange)
    refused = read_only.call("POST", "/cases", json=SUMMARY)
    assert refused.status_code == 403 and events(exchange) == before
    with pytest.raises(Exception, match="roles you hold"):
        exchange.api_tokens.issue(people["FRA.reviewer"], PASSWORD, "x", ["analyst"], 30)


def test_the_token_secret_is_not_stored(app: Flask, exchange: Exchange,
                                        people: dict[str, Viewer]) -> None:
    token = token_for(exchange, people["FRA"])
    token_id, secret = token[4:].split(".")
    path = exchange.settings.data_dir
    stored = b"".join(f.read_bytes() for f in path.rglob("*") if f.is_file())
    assert token_id.encode() in stored  # the public id is the lookup key
    assert secret.encode() not in stored and token.encode() not in stored


@pytest.mark.parametrize(("body", "field"), [
    ({"narrative": "no title"}, "title"),
    (dict(SUMMARY, title=42), "title"),
    (dict(SUMMARY, colour="red"), "colour"),
    (dict(SUMMARY, concerned={"exporter": "ZZZ"}), "concerned.exporter"),
    (dict(SUMMARY, title="x" * 201), "title"),
    (dict(SUMMARY, point_of_diversion="teleported"), "point_of_diversion"),
    (dict(SUMMARY, items=[ITEM, dict(ITEM, quantity=0)]), "items.1.quantity"),
    (dict(SUMMARY, items=[{"quantity": 3}]), "items.0.category"),
    (dict(SUMMARY, items=[ITEM] * 21), "items"),
    (dict(SUMMARY, legs=[{"origin": "DEU"}]), "legs.0.destination"),
    (dict(SUMMARY, actors=[{"role": "broker"}]), "actors.0.name"),
])
def test_bad_bodies_get_a_field_message_and_store_nothing(
        api: Api, exchange: Exchange, body: dict[str, Any], field: str) -> None:
    before = events(exchange)
    response = api.call("POST", "/cases", json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"] == "invalid_input"
    assert response.json["field"] in (field, field.split(".")[-1])
    assert response.json["message"]
    assert events(exchange) == before


def test_a_case_is_logged_with_its_first_parts_in_one_request(api: Api,
                                                             exchange: Exchange) -> None:
    before = events(exchange)
    items = [ITEM, dict(ITEM, serial="SN-2")]
    response = api.call("POST", "/cases", json=dict(
        SUMMARY, items=items, actors=[{"role": "broker", "name": "Saloum SARL"}],
        legs=[{"origin": "DEU", "destination": "MLI"}]))
    assert response.status_code == 201, response.json
    case = response.json
    assert sorted(i["serial"] for i in case["items"].values()) == ["SN-123", "SN-2"]
    assert [a["name"] for a in case["actors"].values()] == ["Saloum SARL"]
    assert case["version"] == 5 and events(exchange) == before + 5


def test_a_body_that_is_not_a_json_object_is_a_400(api: Api, exchange: Exchange) -> None:
    before = events(exchange)
    for kwargs in ({"data": "title=x", "content_type": "application/x-www-form-urlencoded"},
                   {"data": "{not json", "content_type": "application/json"},
                   {"json": ["a", "list"]}):
        response = api.call("POST", "/cases", **kwargs)
        assert response.status_code == 400 and response.json["error"] == "bad_request"
    assert events(exchange) == before


def test_a_stale_version_is_a_409_and_changes_nothing(api: Api, exchange: Exchange) -> None:
    case = open_case(api)
    assert api.call("PUT", f"/cases/{case['id']}/summary",
                    json=dict(SUMMARY, title="First", expected_version=1)).status_code == 200
    before = events(exchange)
    stale = api.call("PUT", f"/cases/{case['id']}/summary",  # made on version 1 too
                     json=dict(SUMMARY, title="Other", expected_version=1))
    assert stale.status_code == 409 and stale.json["error"] == "conflict"
    assert events(exchange) == before


def test_removing_a_part_takes_the_version_in_the_query(api: Api) -> None:
    case = open_case(api)
    added = api.call("POST", f"/cases/{case['id']}/items", json=dict(ITEM, expected_version=1))
    (part_id,) = added.json["items"]
    assert api.call("DELETE", f"/cases/{case['id']}/items/{part_id}").status_code == 422
    removed = api.call("DELETE", f"/cases/{case['id']}/items/{part_id}?expected_version=2")
    assert removed.status_code == 200 and removed.json["items"] == {}


def test_the_case_list_is_paginated_and_filtered(api: Api) -> None:
    ids = [open_case(api)["id"] for _ in range(3)]
    first = api.call("GET", "/cases?per_page=2").json
    second = api.call("GET", "/cases?per_page=2&page=2").json
    assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    assert {c["id"] for c in first["items"] + second["items"]} == set(ids)
    assert api.call("GET", "/cases?status=closed").json["total"] == 0
    for bad in ("per_page=0", "per_page=101", "page=0", "page=x", "page=" + "9" * 30,
                "updated_from=yesterday", "colour=red"):
        response = api.call("GET", f"/cases?{bad}")
        assert response.status_code == 422 and response.json["field"], bad


def test_unknown_operations_and_methods_are_json(api: Api) -> None:
    missing = api.call("GET", "/nothing-here")
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    wrong = api.call("PATCH", "/cases")
    assert wrong.status_code == 405 and wrong.json["error"] == "method_not_allowed"


def test_api_calls_are_rate_limited_per_token(exchange: Exchange,
                                              people: dict[str, Viewer]) -> None:
    from web import create_app
    app = create_app(exchange, {"TESTING": True, "API_RATE_LIMIT": "3 per minute"})
    limited = Api(app.test_client(), token_for(exchange, people["FRA"]))
    other = Api(app.test_client(), token_for(exchange, people["DEU"]))
    assert [limited.call("GET", "/cases").status_code for _ in range(3)] == [200] * 3
    refused = limited.call("GET", "/cases")
    assert refused.status_code == 429 and refused.json["error"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
    assert other.call("GET", "/cases").status_code == 200


def test_tokens_are_issued_and_revoked_on_the_account_page(
        analyst: Browser, app: Flask, exchange: Exchange) -> None:
    before = events(exchange)
    wrong = analyst.post("/account/tokens/", {"name": "NCS", "days": "30",
                                              "password": "not my password"})
    assert wrong.status_code == 401 and 'id="e-password"' in wrong.text
    assert events(exchange) == before
    bad_days = analyst.post("/account/tokens/", {"name": "NCS", "days": "9999",
                                                 "password": PASSWORD})
    assert bad_days.status_code == 422 and 'id="e-days"' in bad_days.text
    issued = analyst.post("/account/tokens/", {"name": "NCS", "days": "30",
                                               "password": PASSWORD, "roles": ["analyst"]})
    assert issued.status_code == 200
    token = issued.text.split('<code class="token">')[1].split("</code>")[0]
    client = app.test_client()
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200
    listing = analyst.get("/account/tokens/").text
    assert "NCS" in listing and token not in listing  # shown once only
    token_id = token[4:].split(".")[0]
    assert analyst.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 401


def test_a_user_cannot_revoke_another_users_token(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    victim = token_for(exchange, people["DEU"])
    victim_id = victim[4:].split(".")[0]
    attacker = Browser(app.test_client())
    attacker.login("fra.analyst")
    before = events(exchange)
    assert attacker.post(f"/account/tokens/{victim_id}/revoke").status_code == 404
    assert events(exchange) == before
    assert app.test_client().get("/api/v1/cases", headers={
        "Authorization": f"Bearer {victim}"}).status_code == 200
