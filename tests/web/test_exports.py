"""Exports hold exactly the cases the user's state can read, as the pages do."""

from __future__ import annotations

import csv
import io
import json

import pytest
import stix2
from flask import Flask

from cases.errors import NotFound
from infra.wiring import Exchange
from tests.conftest import register_states
from tests.web.conftest import ITEM, SUMMARY, Browser

READERS = {"national": {"FRA"}, "bilateral": {"FRA", "DEU"}, "portal": {"FRA", "DEU", "MLI"}}
USERS = ("fra.analyst", "deu.reviewer", "mli.analyst", "mli.reviewer", "secretariat")


@pytest.fixture
def world(exchange: Exchange) -> dict:
    people = register_states(exchange.directory, ("FRA", "DEU", "MLI"), ("analyst", "reviewer"))
    cases = {}
    for tier in READERS:
        title = f"{SUMMARY['title']} ({tier})"
        case_id = exchange.cases.open_case(people["FRA"], dict(SUMMARY, title=title))
        exchange.cases.add_part(people["FRA"], case_id, 1, "item",
                                dict(ITEM, serial=f"SN-{tier}"))
        exchange.cases.add_part(people["FRA"], case_id, 2, "note", {"text": f"note {tier}"})
        if tier == "bilateral":
            exchange.cases.share(people["FRA"], case_id, 3, "bilateral", ["DEU"])
        if tier == "portal":
            exchange.cases.share(people["FRA"], case_id, 3, "portal")
        cases[tier] = case_id
    return {"people": people, "cases": cases}


def readable(exchange: Exchange, people: dict, username: str, cases: dict) -> set[str]:
    viewer = next(v for v in people.values() if v.username == username)
    found = set()
    for case_id in cases.values():
        try:
            exchange.cases.view(viewer, case_id)
            found.add(str(case_id))
        except NotFound:
            pass
    return found


@pytest.mark.parametrize("username", USERS)
def test_exports_hold_exactly_what_the_user_can_read(app: Flask, exchange: Exchange, world,
                                                     username: str) -> None:
    cases = world["cases"]
    expected = readable(exchange, world["people"], username, cases)
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    bundle_text = browser.get("/exports/cases.stix.json").text
    bundle = stix2.parse(bundle_text, allow_custom=True)
    reports = [o for o in bundle.objects if o.type == "report"]
    in_stix = {str(cases[t]) for r in reports for t in READERS if r.name.endswith(f"({t})")}
    assert len(in_stix) == len(reports)
    assert in_stix == expected
    table = browser.get("/exports/cases.csv").text
    in_csv = {row["case_id"] for row in csv.DictReader(io.StringIO(table))}
    assert in_csv == expected
    for tier, case_id in cases.items():
        if str(case_id) not in expected:
            for text in (bundle_text, table):
                assert f"SN-{tier}" not in text and f"({tier})" not in text
                assert f"note {tier}" not in text


def test_the_bundle_carries_items_and_notes_of_a_readable_case(app: Flask, exchange: Exchange,
                                                               world) -> None:
    browser = Browser(app.test_client())
    browser.login("deu.reviewer")
    objects = json.loads(browser.get("/exports/cases.stix.json").text)["objects"]
    items = [o for o in objects if o["type"] == "x-divex-item"]
    assert {o["serial"] for o in items} == {"SN-bilateral", "SN-portal"}
    assert {o["content"] for o in objects if o["type"] == "note"} == \
        {"note bilateral", "note portal"}


def test_anonymous_exports_go_to_sign_in(app: Flask) -> None:
    assert Browser(app.test_client()).get("/exports/cases.csv").status_code == 302
