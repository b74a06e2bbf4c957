"""The access matrix, generated: every case route by every role of the owner state, a recipient
state, a non-recipient state and the secretariat by every sharing tier.

Allowed: readers see the page with the case content; only the owner's analysts change it.
Refused: other readers get 403; everyone else gets 404, with nothing of the case in the page,
and a refused POST stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.wiring import Exchange, open_exchange, prepare_store
from tests.case_routes import CASE_ROUTES, CaseRoute
from tests.conftest import PASSWORD, make_settings
from tests.web.conftest import Browser
from web import create_app

OWNER, RECIPIENT, OUTSIDER = "FRA", "DEU", "MLI"
STATE_ROLES = ("analyst", "reviewer", "auditor", "state_admin")
USERS = [(state, role) for state in (OWNER, RECIPIENT, OUTSIDER) for role in STATE_ROLES]
USERS.append(("XAT", "secretariat"))
TIERS = ("national", "bilateral", "portal")
TITLE = "Matrix case: rifles with erased serials"


def username(state: str, role: str) -> str:
    return "secretariat" if state == "XAT" else f"{state.lower()}.{role}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = make_settings(Path(tmp_path_factory.mktemp("matrix")))
    prepare_store(settings)
    exchange = open_exchange(settings)
    directory = exchange.directory
    directory.initialise("secretariat", PASSWORD)
    secretariat = directory.authenticate("secretariat", PASSWORD)
    for state in (OWNER, RECIPIENT, OUTSIDER):
        directory.create_state(secretariat, state, "state_party", f"{state.lower()}.admin0",
                               PASSWORD)
        admin = directory.authenticate(f"{state.lower()}.admin0", PASSWORD)
        for role in STATE_ROLES:
            directory.add_user(admin, username(state, role), PASSWORD, [role])
    app = create_app(exchange, {"WTF_CSRF_ENABLED": False, "TESTING": True})
    clients = {}
    for n, (state, role) in enumerate(USERS):
        client = app.test_client()
        # Each user signs in from their own office: one address would meet the sign-in throttle.
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"
        # Browser.login completes the second factor that auditors and state admins need.
        response = Browser(client).login(username(state, role))
        assert response.status_code == 302, (state, role)
        clients[(state, role)] = client
    yield {"exchange": exchange, "clients": clients}
    exchange.close()


def new_case(exchange: Exchange, tier: str, title: str = TITLE) -> tuple[str, dict[str, str]]:
    """A case of the owner state with one part of each kind, shared to `tier`."""
    cases = exchange.cases
    analyst = exchange.directory.authenticate(username(OWNER, "analyst"), PASSWORD)
    case_id = cases.open_case(analyst, {"title": title, "narrative": "n"})
    parts = {"item": cases.add_part(analyst, case_id, 1, "item",
                                    {"category": "small_arms", "quantity": "3"}),
             "actor": cases.add_part(analyst, case_id, 2, "actor",
                                     {"role": "broker", "name": "Matrix Broker"}),
             "leg": cases.add_part(analyst, case_id, 3, "leg",
                                   {"origin": "DEU", "destination": "MLI"})}
    if tier == "bilateral":
        cases.share(analyst, case_id, 4, "bilateral", [RECIPIENT])
    elif tier == "portal":
        cases.share(analyst, case_id, 4, "portal")
    return str(case_id), parts


def readers(tier: str) -> set[str]:
    return {"national": {OWNER}, "bilateral": {OWNER, RECIPIENT},
            "portal": {OWNER, RECIPIENT, OUTSIDER}}[tier]


def expected(route: CaseRoute, state: str, role: str, tier: str) -> int:
    if state not in readers(tier):
        return 404
    if route.who == "reader":
        return 200
    if state != OWNER or role != "analyst":
        return 403
    if route.endpoint == "sharing.confirm_unshare" and RECIPIENT not in readers(tier):
        return 422
    if route.method == "GET":
        return 200
    # The sample bodies name DEU: sharing with a reader, or unsharing a non-reader, is a conflict.
    if route.endpoint == "sharing.do_share" and RECIPIENT in readers(tier):
        return 409
    if route.endpoint == "sharing.do_unshare" and RECIPIENT not in readers(tier):
        return 409
    return 302


def event_count(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


def request(client: Any, route: CaseRoute, case_id: str, part_id: str, version: int) -> Any:
    path = route.path.format(case_id=case_id, part_id=part_id)
    data = dict(route.body, expected_version=str(version))
    if route.method == "GET":
        return client.get(path, query_string=data if route.body else None)
    return client.post(path, data=data)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("route", CASE_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_user_gets_exactly_the_allowed_result(world: dict, route: CaseRoute,
                                                    tier: str) -> None:
    exchange: Exchange = world["exchange"]
    case_id, parts = new_case(exchange, tier)
    # Refused users first: the owner analyst's allowed POST changes the case.
    users = sorted(USERS, key=lambda u: expected(route, u[0], u[1], tier) in (200, 302))
    for state, role in users:
        version = exchange.cases.view(
            exchange.directory.authenticate(username(OWNER, "analyst"), PASSWORD),
            case_id).version
        before = event_count(exchange)
        response = request(world["clients"][(state, role)], route, case_id,
                           parts.get(route.part, ""), version)
        want = expected(route, state, role, tier)
        page = response.get_data(as_text=True)
        assert response.status_code == want, (state, role, page[:300])
        if want == 404:
            assert TITLE not in page and "Matrix Broker" not in page
        if route.who == "reader" and want == 200:
            assert TITLE in page
        if route.method == "POST" and want != 302:
            assert event_count(exchange) == before, (state, role)
        if route.method == "POST" and want == 302:
            assert event_count(exchange) > before


@pytest.mark.parametrize("tier", TIERS)
def test_case_list_shows_a_case_exactly_to_its_readers(world: dict, tier: str) -> None:
    exchange: Exchange = world["exchange"]
    title = f"Listed {tier} case"
    new_case(exchange, tier, title)
    for (state, role), client in world["clients"].items():
        page = client.get("/cases/").get_data(as_text=True)
        assert (title in page) == (state in readers(tier)), (state, role, tier)


@pytest.mark.parametrize("tier", TIERS)
def test_inbox_tells_of_a_case_exactly_the_roles_of_its_reader_states(world: dict,
                                                                      tier: str) -> None:
    """The inbox routes: a share is told to the reading roles of the states added, who can
    mark it read; everyone else sees nothing of it and cannot mark it (404, nothing
    written)."""
    exchange: Exchange = world["exchange"]
    title = f"Inbox {tier} case"
    case_id, _ = new_case(exchange, tier, title)
    exchange.follow()
    told_roles = ("analyst", "reviewer", "auditor")
    items = {}  # each told state's item about the case
    for (state, role), client in world["clients"].items():
        page = client.get("/inbox/").get_data(as_text=True)
        told = state in readers(tier) - {OWNER} and role in told_roles
        assert (title in page) == told, (state, role, tier)
        assert (case_id in page) == told, (state, role, tier)
        if told:
            items[state] = re.search(
                rf'href="/cases/{case_id}".*?name="item_id" value="([^"]+)"',
                page, re.S).group(1)  # type: ignore[union-attr]
    for (state, role), client in world["clients"].items():
        for owner_of_item, item in items.items():
            response = client.post("/inbox/read", data={"item_id": item})
            mine = owner_of_item == state and role in told_roles
            assert response.status_code == (302 if mine else 404), (state, role, tier)
