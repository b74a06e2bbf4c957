"""Cases through the web: logging, listing, each edit form, refusals that store nothing."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.case_routes import CASE_ROUTES, CaseRoute
from tests.web.conftest import ACTOR, ITEM, LEG, SUMMARY, Browser, error_next_to, events


@pytest.fixture
def case(exchange: Exchange, people: dict[str, Viewer]) -> dict[str, str]:
    """A FRA case with an item, an actor and a route leg (version 4)."""
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    return {"case_id": str(case_id),
            "item": exchange.cases.add_part(fra, case_id, 1, "item", ITEM),
            "actor": exchange.cases.add_part(fra, case_id, 2, "actor", ACTOR),
            "leg": exchange.cases.add_part(fra, case_id, 3, "leg", LEG)}


def path_of(route: CaseRoute, case: dict[str, str]) -> str:
    return route.path.format(case_id=case["case_id"], part_id=case.get(route.part, ""))


def version(exchange: Exchange, people: dict, case: dict[str, str]) -> int:
    return exchange.cases.view(people["FRA"], UUID(case["case_id"])).version


def test_a_case_logged_through_the_form_is_listed_with_its_title(
        analyst: Browser, exchange: Exchange) -> None:
    form = analyst.get("/cases/new")
    assert form.status_code == 200 and 'name="title"' in form.text
    response = analyst.post("/cases/new", {"title": "Pistols seized at the port",
                                           "point_of_diversion": "in_transit",
                                           "concerned_transit": "deu"})
    assert response.status_code == 302
    case_id = response.location.rsplit("/", 1)[1]
    page = analyst.get(response.location).text
    assert "Pistols seized at the port" in page and "In transit" in page and "DEU" in page
    listing = analyst.get("/cases/").text
    assert f'href="/cases/{case_id}">Pistols seized at the port</a>' in listing
    assert events(exchange) > 0


def test_the_case_page_shows_tier_readers_parts_and_history(analyst: Browser,
                                                            case: dict) -> None:
    page = analyst.get(f"/cases/{case['case_id']}").text
    for text in ("National — own state only", "Readable by", "SN-123", "Example Trading Ltd",
                 "Sea", "Under investigation", "Case logged", "Part added", "Small arms"):
        assert text in page, text


def test_the_list_filters_and_pages(analyst: Browser, exchange: Exchange,
                                    people: dict) -> None:
    fra = people["FRA"]
    for n in range(3):
        exchange.cases.open_case(fra, dict(SUMMARY, title=f"Case number {n}"))
    first = exchange.cases.open_case(fra, dict(SUMMARY, title="The confirmed one"))
    exchange.cases.change_status(fra, first, 1, "under_investigation")
    page = analyst.get("/cases/?status=under_investigation").text
    assert "The confirmed one" in page and "Case number 0" not in page
    analyst.client.application.config["PAGE_SIZE"] = 2
    first_page, second_page = analyst.get("/cases/").text, analyst.get("/cases/?page=2").text
    assert "Page 1 of 2" in first_page and "Page 2 of 2" in second_page
    far = analyst.get("/cases/?page=" + "9" * 30)  # an offset beyond a 64-bit integer
    assert far.status_code == 200 and "Case number" not in far.text
    assert first_page.count("Case number") + first_page.count("confirmed one") == 2
    assert "4 cases" in analyst.get("/cases/?owner=fra&updated_from=2000-01-01").text
    assert "0 cases" in analyst.get("/cases/?owner=DEU").text
    bad = analyst.get("/cases/?updated_to=yesterday")
    assert bad.status_code == 422 and "Enter a date as YYYY-MM-DD." in bad.text


EDITS = [
    ("/cases/{case_id}/summary", dict(title="New title", narrative="More facts.",
                                      point_of_diversion="in_transit"), "New title"),
    ("/cases/{case_id}/item/new", dict(category="ammunition", quantity="500", lot="L-77",
                                       headstamp="XYZ 19", flags=["craft", "modular"]),
     "L-77"),
    ("/cases/{case_id}/item/{item}/edit", dict(ITEM, serial="SN-999"), "SN-999"),
    ("/cases/{case_id}/item/{item}/remove", {}, "No items yet."),
    ("/cases/{case_id}/actor/new", dict(role="carrier", name="Blue Sea Shipping"),
     "Blue Sea Shipping"),
    ("/cases/{case_id}/actor/{actor}/edit", dict(ACTOR, name="Renamed Ltd"), "Renamed Ltd"),
    ("/cases/{case_id}/actor/{actor}/remove", {}, "No actors yet."),
    ("/cases/{case_id}/leg/new", dict(origin="MLI", destination="NER", mode="road",
                                      date="2024-02-01"), "NER"),
    ("/cases/{case_id}/leg/{leg}/remove", {}, "No route legs yet."),
    ("/cases/{case_id}/note/new", dict(text="Photographs received."), "Photographs received."),
    ("/cases/{case_id}/status", dict(status="under_investigation", reason="Serials match."),
     "Serials match."),
]


@pytest.mark.parametrize("path, body, shown", EDITS, ids=[e[0] for e in EDITS])
def test_each_edit_form_saves_and_shows_the_change(
        analyst: Browser, exchange: Exchange, people: dict, case: dict, path: str,
        body: dict, shown: str) -> None:
    url = path.format(**case)
    if not url.endswith("/remove"):
        form = analyst.get(url)
        assert form.status_code == 200 and 'name="expected_version" value="4"' in form.text
    before = events(exchange)
    response = analyst.post(url, dict(body, expected_version="4"))
    assert response.status_code == 302, response.text
    assert events(exchange) == before + 1
    assert shown in analyst.get(response.location).text


BAD = [
    ("/cases/new", dict(title="  "), "title", "This field is required.", 422),
    ("/cases/{case_id}/summary", dict(title="T", concerned_exporter="XX"),
     "concerned_exporter", "is not an ISO 3166-1 alpha-3 country code", 422),
    ("/cases/{case_id}/item/new", dict(category="small_arms", quantity="many"), "quantity",
     "Enter a whole number.", 422),
    ("/cases/{case_id}/item/{item}/edit", dict(ITEM, category="tanks"), "category",
     "Choose one of", 422),
    ("/cases/{case_id}/item/{item}/edit", dict(ITEM, hs_code="93"), "hs_code",
     "An HS code has 6 to 10 digits", 422),
    ("/cases/{case_id}/actor/new", dict(role="broker", name=""), "name",
     "This field is required.", 422),
    ("/cases/{case_id}/actor/{actor}/edit", dict(ACTOR, country="ZZZ"), "country",
     "is not an ISO 3166-1 alpha-3 country code", 422),
    ("/cases/{case_id}/leg/new", dict(origin="DEU", destination="MLI", date="2999-01-01"),
     "date", "The date cannot be in the future.", 422),
    ("/cases/{case_id}/note/new", dict(text=""), "text", "This field is required.", 422),
    ("/cases/{case_id}/status", dict(status="flying"), "status", "Status must be one of", 422),
    ("/cases/{case_id}/status", dict(status="closed"), "status",
     "A case in status Suspected cannot become Closed.", 409),
    ("/cases/{case_id}/share", dict(tier="bilateral"), "states",
     "Name at least one state to share with.", 422),
    ("/cases/{case_id}/share", dict(tier="national", states=["DEU"]), "tier",
     "Share bilaterally or on the portal.", 422),
    ("/cases/{case_id}/unshare", dict(states=["DEU"]), "states",
     "None of those states can read this case.", 409),
]


@pytest.mark.parametrize("path, body, field, message, status", BAD,
                         ids=[f"{b[0]}:{b[2]}" for b in BAD])
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_stored(
        analyst: Browser, exchange: Exchange, case: dict, path: str, body: dict, field: str,
        message: str, status: int) -> None:
    before = events(exchange)
    response = analyst.post(path.format(**case), dict(body, expected_version="4"))
    assert response.status_code == status
    assert message in error_next_to(response, field)
    assert events(exchange) == before



@pytest.mark.parametrize("path, body, field, message, status", BAD,
                         ids=[f"fr:{b[0]}:{b[2]}" for b in BAD])
def test_bad_input_message_is_translated_to_french(
        analyst: Browser, exchange: Exchange, case: dict, path: str, body: dict, field: str,
        message: str, status: int) -> None:
    analyst.post("/language", {"lang": "fr"})
    before = events(exchange)
    response = analyst.post(path.format(**case), dict(body, expected_version="4"))
    assert response.status_code == status
    shown = error_next_to(response, field)
    assert shown and message not in shown, shown
    assert events(exchange) == before

POSTS = [r for r in CASE_ROUTES if r.method == "POST"]


def meanwhile(exchange: Exchange, fra: Viewer, case: dict[str, str], route: CaseRoute) -> bool:
    """Another analyst's change to the part ``route`` changes (to any part when the route
    is a sharing one); returns whether the route's change now collides with it."""
    case_id, at = UUID(case["case_id"]), version(exchange, {"FRA": fra}, case)
    cases = exchange.cases
    if route.endpoint == "cases.revise_summary":
        cases.revise_summary(fra, case_id, at, {**SUMMARY, "title": "Renamed meanwhile"})
    elif route.endpoint == "cases.change_status":
        cases.change_status(fra, case_id, at, "unfounded", "Mistaken report.")
    elif route.part in ("item", "actor"):
        cases.revise_part(fra, case_id, at, route.part, case[route.part],
                          ITEM if route.part == "item" else ACTOR)
    elif route.part == "leg":
        cases.remove_part(fra, case_id, at, "leg", case["leg"])
    else:  # adding a part collides with nothing; sharing with any change
        cases.add_part(fra, case_id, at, "note", {"text": "Added meanwhile."})
        return route.endpoint.startswith("sharing.")
    return True


@pytest.mark.parametrize("route", POSTS, ids=[f"{r.endpoint}:{r.part}" for r in POSTS])
def test_a_change_made_on_an_old_version_is_refused_only_if_it_collides(
        analyst: Browser, exchange: Exchange, people: dict, case: dict,
        route: CaseRoute) -> None:
    """Issue 23 item 3: a change elsewhere in the case no longer loses the typed work; a
    collision brings the form back with what was typed and what changed meanwhile."""
    opened_at = version(exchange, people, case)
    collides = meanwhile(exchange, people["FRA"], case, route)
    before = events(exchange)
    response = analyst.post(path_of(route, case), dict(route.body,
                                                       expected_version=str(opened_at)))
    if not collides:
        assert response.status_code == 302, response.text
        assert events(exchange) == before + 1
        return
    assert response.status_code == 409
    assert "changed by someone else" in response.text
    assert f'href="/cases/{case["case_id"]}"' in response.text  # the case as it is now
    assert events(exchange) == before
    if route.body and route.endpoint.startswith("cases."):  # a form: typed work is kept
        typed = max((v for v in route.body.values() if isinstance(v, str)), key=len)
        assert f">{typed}<" in response.text or f'value="{typed}"' in response.text
        assert "Changed meanwhile" in response.text
        assert f'name="expected_version" value="{opened_at + 1}"' in response.text


@pytest.mark.parametrize("route", POSTS, ids=[f"{r.endpoint}:{r.part}" for r in POSTS])
def test_a_post_without_csrf_token_is_refused_and_stores_nothing(
        analyst: Browser, exchange: Exchange, people: dict, case: dict,
        route: CaseRoute) -> None:
    before = events(exchange)
    body = dict(route.body, expected_version=str(version(exchange, people, case)))
    response = analyst.post(path_of(route, case), body, csrf=False)
    assert response.status_code == 400
    assert events(exchange) == before
    forged = analyst.post(path_of(route, case), dict(body, csrf_token="forged"), csrf=False)
    assert forged.status_code == 400
    assert events(exchange) == before


@pytest.mark.parametrize("tier", ["national", "bilateral", "portal"])
def test_the_route_table_bodies_are_valid_in_their_tiers(
        analyst: Browser, exchange: Exchange, people: dict, case: dict, tier: str) -> None:
    if tier != "national":
        exchange.cases.share(people["FRA"], UUID(case["case_id"]), 4, tier,
                             ["DEU"] if tier == "bilateral" else None)
    usable = [r for r in CASE_ROUTES if tier in r.valid_in]
    # Removals last, so that revisions still find their part.
    for route in sorted(usable, key=lambda r: r.endpoint == "cases.remove_part"):
        url, body = path_of(route, case), dict(route.body)
        body["expected_version"] = str(version(exchange, people, case))
        response = (analyst.post(url, body) if route.method == "POST"
                    else analyst.get(url, query_string=body))
        assert response.status_code == (302 if route.method == "POST" else 200), (
            route, response.text)
    if tier == "national":
        unshare = analyst.post(f"/cases/{case['case_id']}/unshare",
                               {"states": "DEU", "expected_version": "4"})
        assert unshare.status_code == 409


def test_a_missing_version_is_refused(analyst: Browser, exchange: Exchange, case: dict) -> None:
    before = events(exchange)
    response = analyst.post(f"/cases/{case['case_id']}/note/new", {"text": "x"})
    assert response.status_code == 422 and "reload the page" in response.text
    assert events(exchange) == before


def test_other_states_do_not_see_a_national_case(app, people: dict, case: dict) -> None:
    deu = Browser(app.test_client())
    deu.login("deu.analyst")
    assert deu.get(f"/cases/{case['case_id']}").status_code == 404
    assert "Rifles" not in deu.get("/cases/").text
    assert deu.get("/cases/not-a-uuid").status_code == 404


def test_a_reviewer_reads_but_cannot_change(app, people: dict, case: dict,
                                            exchange: Exchange) -> None:
    reviewer = Browser(app.test_client())
    reviewer.login("fra.reviewer")
    page = reviewer.get(f"/cases/{case['case_id']}").text
    assert "Rifles found" in page and "Add an item" not in page
    for route in CASE_ROUTES:
        if route.who != "owner_analyst":
            continue
        before = events(exchange)
        url = path_of(route, case)
        response = (reviewer.post(url, dict(route.body, expected_version="4"))
                    if route.method == "POST"
                    else reviewer.get(url, query_string=dict(route.body, expected_version="4")))
        assert response.status_code == 403, route
        assert events(exchange) == before


def test_error_pages_hide_tracebacks(analyst: Browser) -> None:
    response = analyst.get("/nowhere")
    assert response.status_code == 404 and "Traceback" not in response.text
    assert re.search(r"<h1>Not found", response.text)


def test_a_server_error_shows_a_plain_page(exchange: Exchange, people: dict,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from web import create_app

    app = create_app(exchange, {"WTF_CSRF_ENABLED": True, "PROPAGATE_EXCEPTIONS": False})
    user = Browser(app.test_client())
    user.login("fra.analyst")

    def broken() -> int:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(exchange, "follow", broken)
    response = user.get("/cases/")
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert "Something went wrong" in response.text


def test_the_status_panel_and_form_explain_the_lifecycle(analyst: Browser, exchange: Exchange,
                                                         people: dict) -> None:
    """Issue 23 item 5: 'Confirmed' is not offered from 'Suspected', and the page says why."""
    case_id = exchange.cases.open_case(people["FRA"], {"title": "Rifles reported missing"})
    page = analyst.get(f"/cases/{case_id}").text
    assert "put it under investigation first" in page
    assert "Start investigating the report." in page
    form = analyst.get(f"/cases/{case_id}/status").text
    assert 'value="confirmed"' not in form and 'value="under_investigation"' in form
    assert "put it under investigation first" in form
    assert analyst.post("/language", {"lang": "fr", "next": "/cases/"}).status_code == 302
    french = analyst.get(f"/cases/{case_id}/status").text
    assert "mettez-le d\u2019abord en cours d\u2019enquête" in french
    refused = analyst.post(f"/cases/{case_id}/status",
                           {"status": "confirmed", "reason": "Trace answered",
                            "expected_version": "1"})
    assert refused.status_code == 409 and "Trace answered" in refused.text
    assert "mettez-le d\u2019abord en cours d\u2019enquête" in refused.text


def test_a_colliding_edit_shows_what_is_saved_now_beside_what_was_typed(
        analyst: Browser, exchange: Exchange, people: dict, case: dict) -> None:
    opened_at = version(exchange, people, case)
    exchange.cases.revise_part(people["FRA"], UUID(case["case_id"]), opened_at, "item",
                               case["item"], {**ITEM, "serial": "SN-FROM-THE-OTHER-TAB"})
    response = analyst.post(f"/cases/{case['case_id']}/item/{case['item']}/edit",
                            {**ITEM, "serial": "SN-TYPED-HERE", "expected_version": opened_at})
    assert response.status_code == 409
    assert ">SN-TYPED-HERE</textarea>" in response.text
    assert "Saved meanwhile: SN-FROM-THE-OTHER-TAB" in response.text
    assert response.text.count("Saved meanwhile") == 1  # only where the two differ


def test_a_removal_is_confirmed_first_and_can_be_undone_from_the_history(
        analyst: Browser, app: Flask, exchange: Exchange, people: dict, case: dict) -> None:
    """Issue 23 item 3: 'Remove' deleted at once, with no way back."""
    case_id, item = case["case_id"], case["item"]
    page = analyst.get(f"/cases/{case_id}").text
    assert f'href="/cases/{case_id}/item/{item}/remove"' in page  # a link, not a POST
    confirm = analyst.get(f"/cases/{case_id}/item/{item}/remove")
    assert confirm.status_code == 200 and "SN-123" in confirm.text
    assert "Remove this item?" in confirm.text
    at = version(exchange, people, case)
    assert analyst.post(f"/cases/{case_id}/item/{item}/remove",
                        {"expected_version": at}).status_code == 302
    assert item not in exchange.cases.view(people["FRA"], UUID(case_id)).items
    history = analyst.get(f"/cases/{case_id}").text
    assert f'/cases/{case_id}/item/{item}/restore' in history
    other = Browser(app.test_client())  # another state's analyst cannot restore it
    assert other.login("deu.analyst").status_code == 302
    before = events(exchange)
    refused = other.post(f"/cases/{case_id}/item/{item}/restore",
                         {"expected_version": at + 1, "removed_at": at + 1})
    assert refused.status_code == 404 and events(exchange) == before
    wrong = analyst.post(f"/cases/{case_id}/item/{item}/restore",
                         {"expected_version": at + 1, "removed_at": at})  # not a removal
    assert wrong.status_code == 404 and events(exchange) == before
    assert analyst.post(f"/cases/{case_id}/item/{item}/restore",
                        {"expected_version": at + 1, "removed_at": at + 1}).status_code == 302
    restored = exchange.cases.view(people["FRA"], UUID(case_id)).items[item]
    assert restored["serial"] == "SN-123" and restored["make"] == "Acme"
    again = analyst.post(f"/cases/{case_id}/item/{item}/restore",
                         {"expected_version": at + 2, "removed_at": at + 1})
    assert again.status_code == 409 and events(exchange) == before + 1


def test_countries_are_picked_by_name_in_the_users_language_and_stored_as_codes(
        analyst: Browser, exchange: Exchange, people: dict) -> None:
    form = analyst.get("/cases/new").text
    # four concerned states; the first item, actor and route leg rows' countries
    assert form.count('list="countries"') == 8 and form.count('<datalist id="countries">') == 1
    assert '<option value="DEU">Germany</option>' in form
    assert analyst.post("/language", {"lang": "fr"}).status_code == 302
    assert '<option value="DEU">Allemagne</option>' in analyst.get("/cases/new").text
    response = analyst.post("/cases/new", {"title": "Rifles at the border",
                                           "concerned_exporter": "de",
                                           "found_on": "2026-02-03", "found_at": "Kidira"})
    assert response.status_code == 302, response.text
    case_id = UUID(response.location.rstrip("/").rsplit("/", 1)[-1])
    summary = exchange.cases.view(people["FRA"], case_id).summary
    assert summary["concerned"]["exporter"] == "DEU"  # the code, whatever was typed
    assert (summary["found_on"], summary["found_at"]) == ("2026-02-03", "Kidira")
    page = analyst.get(response.location).text
    assert "Allemagne (DEU)" in page and "2026-02-03, Kidira" in page


def test_a_case_and_its_first_parts_are_logged_in_one_form(analyst: Browser,
                                                          exchange: Exchange,
                                                          people: dict) -> None:
    form = analyst.get("/cases/new").text
    assert 'name="items.0.category"' in form and 'name="items.1.category"' not in form
    typed = {"title": "Rifles and cartridges at Kidira", "item_rows": "1",
             "items.0.category": "small_arms", "items.0.quantity": "12",
             "items.0.serial": "KD-0042"}
    before = events(exchange)
    more = analyst.post("/cases/new", dict(typed, more_rows="item"))
    assert more.status_code == 200 and 'name="items.1.category"' in more.text
    assert ">KD-0042</textarea>" in more.text and events(exchange) == before  # nothing saved
    second = {"item_rows": "3", "items.2.category": "ammunition", "items.2.quantity": "many",
              "items.2.lot": "LOT-9"}  # row 2 is bad; row 1 is left empty
    refused = analyst.post("/cases/new", {**typed, **second})
    assert refused.status_code == 422 and events(exchange) == before  # nothing at all
    assert error_next_to(refused, "items.2.quantity")
    assert 'value="LOT-9"' in refused.text and ">KD-0042</textarea>" in refused.text
    route = {"leg_rows": "2", "legs.0.origin": "DEU", "legs.0.destination": "SEN",
             "legs.1.origin": "SEN", "legs.1.destination": "MLI", "legs.1.mode": "road",
             "actor_rows": "1", "actors.0.role": "broker", "actors.0.name": "Saloum SARL"}
    bad_leg = analyst.post("/cases/new", {**typed, **second, **route, "items.2.quantity": "9",
                                          "legs.1.destination": ""})
    assert bad_leg.status_code == 422 and error_next_to(bad_leg, "legs.1.destination")
    assert 'value="Saloum SARL"' in bad_leg.text and events(exchange) == before
    response = analyst.post("/cases/new", {**typed, **second, **route,
                                           "items.2.quantity": "900"})
    assert response.status_code == 302, response.text
    case_id = UUID(response.location.rstrip("/").rsplit("/", 1)[-1])
    view = exchange.cases.view(people["FRA"], case_id)
    assert sorted((i["category"], i["quantity"]) for i in view.items.values()) == \
        [("ammunition", 900), ("small_arms", 12)]
    assert [a["name"] for a in view.actors.values()] == ["Saloum SARL"]
    assert sorted((leg["origin"], leg["destination"]) for leg in view.legs.values()) == \
        [("DEU", "SEN"), ("SEN", "MLI")]
    assert events(exchange) == before + 6  # opened, two items, an actor, two legs: at once


def test_an_item_row_takes_a_pasted_list_of_serials(analyst: Browser, exchange: Exchange,
                                                     people: dict) -> None:
    pasted = "KD-0042\r\nKD-0043\r\nKD-0044\r\nKD-0045"
    typed = {"title": "Pistols at Kidira", "item_rows": "1", "items.0.category": "small_arms",
             "items.0.quantity": "3", "items.0.serial": pasted}
    before = events(exchange)
    refused = analyst.post("/cases/new", typed)
    assert refused.status_code == 422 and events(exchange) == before
    assert "4 serial numbers for 3 items" in error_next_to(refused, "items.0.serial")
    assert "KD-0045</textarea>" in refused.text  # the pasted list is kept
    response = analyst.post("/cases/new", dict(typed, **{"items.0.quantity": "4"}))
    assert response.status_code == 302, response.text
    page = analyst.get(response.location).text
    serials = '<span class="serial">KD-0042</span><br><span class="serial">KD-0043</span><br>'
    assert serials in page and "and 1 more" in page  # each kept whole, one per line


def test_french_puts_a_no_break_space_before_its_colons_and_english_does_not(
        analyst: Browser, case: dict[str, str]) -> None:
    english = analyst.get(f"/cases/{case['case_id']}").text
    assert "Status: Suspected" in english and "Readable by:</strong>" in english
    assert analyst.post("/language", {"lang": "fr"}).status_code == 302
    french = analyst.get(f"/cases/{case['case_id']}").text
    assert "Statut\u00a0: Soupçonné" in french and "Lisible par\u00a0:</strong>" in french
    assert "Statut:" not in french


def test_a_sentence_the_template_asks_by_name_follows_each_request_language(
        analyst: Browser, case: dict[str, str]) -> None:
    """Jinja folds a filter on a literal into the compiled template: the first request's
    language would then stay for everyone."""
    assert "never reads the case" in analyst.get(f"/cases/{case['case_id']}").text
    assert analyst.post("/language", {"lang": "es"}).status_code == 302
    spanish = analyst.get(f"/cases/{case['case_id']}").text
    assert "nunca lee el caso" in spanish and "never reads the case" not in spanish


def test_the_case_history_names_tier1_events_in_the_users_language(
        analyst: Browser, exchange: Exchange, people: dict, case: dict[str, str]) -> None:
    exchange.policy.propose(people["FRA"], UUID(case["case_id"]))
    assert analyst.post("/language", {"lang": "fr"}).status_code == 302
    page = analyst.get(f"/cases/{case['case_id']}").text
    assert "PolicyFactsSealed" not in page and "Proposé pour les synthèses" in page
