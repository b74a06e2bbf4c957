"""The access matrix for the API: every case-scoped operation, called with each user's token,
for a case in each sharing tier. Non-readers get 404 with nothing of the case; readers without
the right get 403; a refusal stores nothing. The allowed user is not refused for access
(the case's own state may still make the change a 409 or 422)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.wiring import Exchange, open_exchange, prepare_store
from tests.conftest import PASSWORD, make_settings, register_states
from web import create_app
from web.api.spec import OPERATIONS, Operation

TITLE = "API matrix case: rifles with erased serials"
USERS = ("FRA", "FRA.reviewer", "FRA.admin", "DEU", "DEU.reviewer", "MLI", "secretariat")
TIERS = ("national", "bilateral", "portal")
SUMMARY = {"title": "Revised", "concerned": {"exporter": "DEU"}}
ITEM = {"category": "small_arms", "quantity": 2}
ACTOR = {"role": "broker", "name": "Example Trading"}
# operation id -> (who may, sample body or query)
WHO: dict[str, tuple[str, dict[str, Any]]] = {
    "get_case": ("reader", {}), "case_history": ("reader", {}),
    "revise_summary": ("owner_analyst", SUMMARY),
    "add_item": ("owner_analyst", ITEM), "add_actor": ("owner_analyst", ACTOR),
    "add_leg": ("owner_analyst", {"origin": "DEU", "destination": "MLI"}),
    "add_note": ("owner_analyst", {"text": "Checked."}),
    "revise_item": ("owner_analyst", ITEM), "revise_actor": ("owner_analyst", ACTOR),
    "remove_item": ("owner_analyst", {}), "remove_actor": ("owner_analyst", {}),
    "remove_leg": ("owner_analyst", {}),
    "change_status": ("owner_analyst", {"status": "under_investigation", "reason": "r"}),
    "share_case": ("owner_analyst", {"tier": "bilateral", "states": ["MLI"]}),
    "preview_share": ("owner_analyst", {"tier": "bilateral", "states": ["MLI"]}),
    "unshare_case": ("owner_analyst", {"states": ["DEU"]}),
    "set_retention": ("owner_admin", {"keep_years": 10}),
    "request_shred": ("owner_admin", {}), "withdraw_shred": ("owner_admin", {}),
    "confirm_shred": ("owner_admin", {}),
    "propose_for_summaries": ("owner_analyst_or_admin", {}),
    "consent_to_summaries": ("reader_analyst_or_admin", {"given": True}),
    "send_trace": ("owner_analyst", {"requested_state": "DEU", "item_ids": [],
                                     "questions": "Where was it exported to?"}),
    "case_contributions": ("reader", {}),
    "contribute": ("reader_analyst_or_reviewer", {"kind": "comment", "text": "Seen here."}),
}
# The operations on a case itself; those on a meeting's agenda or the auditors' time travel
# have their own access tests (test_api_meetings.py, test_api_audit.py).
CASE_OPERATIONS = [op for op in OPERATIONS if op.path.startswith("/cases/{case_id}")]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = make_settings(tmp_path_factory.mktemp("api-matrix"))
    prepare_store(settings)
    exchange: Exchange = open_exchange(settings)
    people = register_states(exchange.directory, roles=("analyst", "reviewer"))
    app = create_app(exchange, {"TESTING": True, "API_RATE_LIMIT": "100000 per minute"})
    tokens = {u: exchange.api_tokens.issue(people[u], PASSWORD, "matrix", [], 30)[0]
              for u in USERS}
    yield {"exchange": exchange, "people": people, "client": app.test_client(),
           "tokens": tokens}
    exchange.close()


def new_case(world: dict[str, Any], tier: str) -> tuple[str, dict[str, str]]:
    cases, analyst = world["exchange"].cases, world["people"]["FRA"]
    case_id = cases.open_case(analyst, {"title": TITLE, "narrative": "n"})
    parts = {"item": cases.add_part(analyst, case_id, 1, "item",
                                    {"category": "small_arms", "quantity": "3"}),
             "actor": cases.add_part(analyst, case_id, 2, "actor",
                                     {"role": "broker", "name": "Matrix Broker"}),
             "leg": cases.add_part(analyst, case_id, 3, "leg",
                                   {"origin": "DEU", "destination": "MLI"})}
    if tier != "national":
        cases.share(analyst, case_id, 4, tier, ["DEU"] if tier == "bilateral" else None)
    return str(case_id), parts


def allowed(who: str, user: str, readers: list[str], world: dict[str, Any]) -> bool | None:
    """True: may; False: a reader refused (403); None: not a reader (404)."""
    viewer = world["people"][user]
    if viewer.state not in readers:
        return None
    owner = viewer.state == "FRA"
    return {
        "reader": True,
        "owner_analyst": owner and viewer.has("analyst"),
        "owner_admin": owner and viewer.has("state_admin"),
        "owner_analyst_or_admin": owner and (viewer.has("analyst") or
                                             viewer.has("state_admin")),
        "reader_analyst_or_admin": viewer.has("analyst") or viewer.has("state_admin"),
        "reader_analyst_or_reviewer": viewer.has("analyst") or viewer.has("reviewer"),
    }[who]


def test_every_case_operation_is_in_the_matrix() -> None:
    assert {op.operation_id for op in CASE_OPERATIONS} == set(WHO)


def call(world: dict[str, Any], op: Operation, user: str, case_id: str, part_id: str,
         version: int) -> Any:
    sample = WHO[op.operation_id][1]
    path = "/api/v1" + op.path.format(case_id=case_id, part_id=part_id)
    headers = {"Authorization": f"Bearer {world['tokens'][user]}"}
    if op.query is not None:
        query = dict(sample)
        if "expected_version" in op.query.model_fields:
            query["expected_version"] = version
        return world["client"].open(path, method=op.method, headers=headers,
                                    query_string=query)
    body = None
    if op.body is not None:
        body = dict(sample)
        if "expected_version" in op.body.model_fields:
            body["expected_version"] = version
    if body is not None and "item_ids" in body:
        body["item_ids"] = [part_id]
    return world["client"].open(path, method=op.method, headers=headers, json=body)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("op", CASE_OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_every_token_gets_exactly_the_allowed_result(world: dict[str, Any], op: Operation,
                                                     tier: str) -> None:
    exchange: Exchange = world["exchange"]
    case_id, parts = new_case(world, tier)
    owner = world["people"]["FRA"]
    readers = exchange.cases.view(owner, case_id).recipients
    who = WHO[op.operation_id][0]
    # Refused users first: the allowed call may change the case.
    users = sorted(USERS, key=lambda u: bool(allowed(who, u, readers, world)))
    part_kind = "item" if op.operation_id == "send_trace" else op.operation_id.split("_")[-1]
    for user in users:
        version = exchange.cases.view(owner, case_id).version
        before = exchange.ledger.recorder.max_notification_id()
        response = call(world, op, user, case_id, parts.get(part_kind, ""), version)
        may = allowed(who, user, readers, world)
        text = response.get_data(as_text=True)
        if may is None:
            assert response.status_code == 404, (user, text[:200])
            assert TITLE not in text and "Matrix Broker" not in text
        elif may is False:
            assert response.status_code == 403, (user, text[:200])
        else:
            assert response.status_code not in (401, 403, 404), (user, text[:200])
            if who == "reader":
                assert response.status_code == 200 and TITLE in text
        if response.status_code >= 400:
            assert exchange.ledger.recorder.max_notification_id() == before, user
            assert set(response.json) == {"error", "message", "field"}


@pytest.mark.parametrize("tier", TIERS)
def test_the_inbox_operations_tell_of_a_case_only_its_reader_states(
        world: dict[str, Any], tier: str) -> None:
    exchange: Exchange = world["exchange"]
    title = f"API inbox {tier} case"
    case_id = exchange.cases.open_case(world["people"]["FRA"], {"title": title, "narrative": "n"})
    if tier != "national":
        exchange.cases.share(world["people"]["FRA"], case_id, 1, tier,
                             ["DEU"] if tier == "bilateral" else None)
    readers = exchange.cases.view(world["people"]["FRA"], case_id).recipients
    for user in USERS:
        headers = {"Authorization": f"Bearer {world['tokens'][user]}"}
        listed = world["client"].get("/api/v1/inbox?per_page=100", headers=headers)
        assert listed.status_code == 200
        about = [i for i in listed.json["items"] if i["case_id"] == str(case_id)]
        viewer = world["people"][user]
        told = viewer.state in set(readers) - {"FRA"} and bool(
            {"analyst", "reviewer", "auditor"} & viewer.roles)
        assert bool(about) == told, user
        assert (title in listed.get_data(as_text=True)) == told, user
        if told:
            assert about[0]["title"] == title
            marked = world["client"].post("/api/v1/inbox/read", headers=headers,
                                          json={"item_ids": [about[0]["id"]]})
            assert marked.status_code == 200 and marked.json["marked"] == 1
