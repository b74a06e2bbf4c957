"""Exports hold exactly the cases the user's state can read, as the pages do."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import stix2
from flask import Flask
from pymisp import MISPEvent

from cases.casework.misp import _uuid as misp_uuid
from cases.casework.stix import REPORT_EXTENSION
from cases.kernel.errors import NotFound
from infra.wiring import Exchange
from tests.conftest import PASSWORD, register_states
from tests.web.conftest import ACTOR, ITEM, LEG, SUMMARY, Browser
from web import exports

# Every case is FRA's; who reads it depends on how it was shared.
READERS = {"national": {"FRA"}, "bilateral": {"FRA", "DEU"}, "portal": {"FRA", "DEU", "MLI"},
           "secretariat": {"FRA", "XAT"}, "withdrawn": {"FRA"}}
USERS = ("fra.analyst", "fra.reviewer", "deu.reviewer", "deu.auditor", "mli.analyst",
         "mli.reviewer", "secretariat")
STIX = "/exports/cases.stix.json"
# The README's mapping of tiers to TLP 2.0 and MISP distributions (1: this community,
# 4: a sharing group, 0: your organisation only).
TLP = {"national": "red", "bilateral": "amber+strict", "portal": "amber"}
MISP_DISTRIBUTION = {"portal": 1, "bilateral": 4, "national": 0}
CSV = "/exports/cases.csv"


def secrets(kind: str) -> dict[str, str]:
    """The texts of one case that only its readers may ever see."""
    return {"title": f"Rifles of the {kind} case", "narrative": f"Narrative {kind}: erased.",
            "serial": f"SN-{kind}", "note": f"Evidence note {kind}",
            "actor": f"Broker of the {kind} case"}


@pytest.fixture
def world(exchange: Exchange) -> dict[str, Any]:
    """FRA's cases at each tier, each with an item, an actor, a route leg and a note."""
    people = register_states(exchange.directory, ("FRA", "DEU", "MLI"),
                             ("analyst", "reviewer", "auditor"))
    fra, cases = people["FRA"], exchange.cases
    ids = {}
    for kind in READERS:
        text = secrets(kind)
        case_id = cases.open_case(fra, dict(SUMMARY, title=text["title"],
                                            narrative=text["narrative"]))
        cases.add_part(fra, case_id, 1, "item", dict(ITEM, serial=text["serial"]))
        cases.add_part(fra, case_id, 2, "actor", dict(ACTOR, name=text["actor"]))
        cases.add_part(fra, case_id, 3, "leg", LEG)
        cases.add_part(fra, case_id, 4, "note", {"text": text["note"]})
        if kind == "bilateral":
            cases.share(fra, case_id, 5, "bilateral", ["DEU"])
        elif kind == "portal":
            cases.share(fra, case_id, 5, "portal")
        elif kind == "secretariat":
            cases.share(fra, case_id, 5, "bilateral", ["XAT"])
        elif kind == "withdrawn":
            cases.share(fra, case_id, 5, "bilateral", ["DEU", "MLI"])
            cases.unshare(fra, case_id, 6, ["DEU", "MLI"])
        ids[kind] = str(case_id)
    return {"cases": ids}


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def allowed_by_service(exchange: Exchange, username: str, cases: dict[str, str]) -> set[str]:
    """The cases `Cases.view` opens for this user: the reference the exports must match."""
    viewer = exchange.directory.authenticate(username, PASSWORD)
    found = set()
    for case_id in cases.values():
        try:
            exchange.cases.view(viewer, case_id)
            found.add(case_id)
        except NotFound:
            pass
    return found


def reports_of(bundle_text: str) -> list[Any]:
    bundle = stix2.parse(bundle_text, allow_custom=False)
    return [o for o in bundle.objects if o.type == "report"]


def facts(report: Any) -> dict[str, Any]:
    """The divex facts of a report (its property extension)."""
    return report.extensions[REPORT_EXTENSION]


def csv_rows(table: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(table)))


@pytest.mark.parametrize("username", USERS)
def test_exports_hold_exactly_the_cases_the_service_lets_the_user_read(
        app: Flask, exchange: Exchange, world: dict[str, Any], username: str) -> None:
    cases = world["cases"]
    expected = allowed_by_service(exchange, username, cases)
    state = "XAT" if username == "secretariat" else username[:3].upper()
    assert expected == {cases[k] for k, states in READERS.items() if state in states}
    browser = signed_in(app, username)
    bundle_text, table = browser.get(STIX).text, browser.get(CSV).text

    reports = reports_of(bundle_text)
    assert sorted(facts(r).case_id for r in reports) == sorted(expected)
    assert {row["case_id"] for row in csv_rows(table)} == expected
    for kind, case_id in cases.items():
        if case_id not in expected:
            for text in (bundle_text, table):
                assert case_id not in text
                for secret in secrets(kind).values():
                    assert secret not in text, (kind, secret)


def test_a_readable_case_comes_whole_in_the_bundle(app: Flask, world: dict[str, Any]) -> None:
    text = secrets("bilateral")
    bundle = stix2.parse(signed_in(app, "deu.reviewer").get(STIX).text, allow_custom=False)
    objects = {o.id: o for o in bundle.objects}
    report = next(r for r in objects.values()
                  if r.type == "report" and facts(r).case_id == world["cases"]["bilateral"])
    assert (report.name, report.description) == (text["title"], text["narrative"])
    assert (facts(report).status, facts(report).tier) == ("suspected", "bilateral")
    assert facts(report).point_of_diversion == SUMMARY["point_of_diversion"]
    # TLP:AMBER+STRICT, as OASIS publishes it (cti-stix-common-objects, tlp-2.0)
    assert report.object_marking_refs == [
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]
    referred = [objects[ref] for ref in report.object_refs]
    by_type = {o.type: o for o in referred}
    assert by_type["divex-item"].serials == [text["serial"]]
    assert by_type["divex-item"].quantity == int(ITEM["quantity"])
    destination = objects[by_type["divex-route-leg"].destination_ref]
    assert (destination.type, destination.country) == ("location", "ML")  # LEG goes to MLI
    actor = next(o for o in referred if o.type == "identity" and o.name == text["actor"])
    assert actor.roles == [ACTOR["role"]]
    located = next(o for o in referred if o.type == "relationship")
    assert (located.source_ref, located.relationship_type) == (actor.id, "located-at")
    assert objects[located.target_ref].country == "DE"  # ACTOR is in DEU
    notes = [o for o in objects.values() if o.type == "note" and report.id in o.object_refs]
    assert [n.content for n in notes] == [text["note"]]
    assert notes[0].authors == ["fra.analyst"]
    creator = objects[report.created_by_ref]
    assert (creator.type, creator.name) == ("identity", "FRA")  # the owner, not DEU
    case_objects = [objects[ref] for ref in report.object_refs
                    if objects[ref].type != "location" and ref != creator.id]
    assert {o.created_by_ref for o in case_objects} == {creator.id}
    # Countries are no case's: shared by every report that names them, created by no state.
    assert all("created_by_ref" not in objects[ref] for ref in report.object_refs
               if objects[ref].type == "location")


def test_two_states_exports_of_a_shared_case_agree_on_every_object(
        app: Flask, world: dict[str, Any]) -> None:
    case_id = world["cases"]["bilateral"]

    def objects_of(user: str) -> dict[str, Any]:
        bundle = stix2.parse(signed_in(app, user).get(STIX).text, allow_custom=False)
        everything = {o.id: o for o in bundle.objects}
        report = next(o for o in everything.values()
                      if o.type == "report" and facts(o).case_id == case_id)
        return {ref: everything[ref] for ref in [report.id, *report.object_refs]}

    fra, deu = objects_of("fra.analyst"), objects_of("deu.reviewer")
    assert fra.keys() == deu.keys()
    for object_id, mine in fra.items():
        theirs = deu[object_id]
        assert (mine.get("created_by_ref"), mine.get("modified")) == \
            (theirs.get("created_by_ref"), theirs.get("modified")), object_id


def test_two_exports_of_the_same_cases_are_identical(app: Flask,
                                                     world: dict[str, Any]) -> None:
    browser = signed_in(app, "fra.reviewer")
    assert browser.get(STIX).data == browser.get(STIX).data
    assert browser.get(CSV).data == browser.get(CSV).data


def test_exports_page_through_the_whole_case_index(app: Flask, world: dict[str, Any],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "PAGE", 2)
    browser = signed_in(app, "fra.analyst")
    assert len(reports_of(browser.get(STIX).text)) == len(READERS)
    assert {r["case_id"] for r in csv_rows(browser.get(CSV).text)} == \
        set(world["cases"].values())


def test_csv_has_a_row_per_item_and_one_for_a_case_without_items(
        app: Flask, exchange: Exchange, world: dict[str, Any]) -> None:
    fra = exchange.directory.authenticate("fra.analyst", PASSWORD)
    bare = str(exchange.cases.open_case(fra, dict(SUMMARY, title="No items yet")))
    twice = world["cases"]["national"]
    exchange.cases.add_part(fra, twice, 5, "item",
                            dict(ITEM, serial="SN-second", make="=HYPERLINK(\"x\")"))
    rows = csv_rows(signed_in(app, "fra.analyst").get(CSV).text)
    assert [r["serial"] for r in rows if r["case_id"] == twice] == ["SN-national", "SN-second"]
    assert [(r["title"], r["serial"], r["category"]) for r in rows if r["case_id"] == bare] == \
        [("No items yet", "", "")]
    assert "'=HYPERLINK(\"x\")" in [r["make"] for r in rows]


def test_exports_are_attachments_of_their_own_media_type(app: Flask,
                                                         world: dict[str, Any]) -> None:
    browser = signed_in(app, "fra.analyst")
    for path, mimetype in ((STIX, "application/stix+json"), (CSV, "text/csv")):
        response = browser.get(path)
        assert response.status_code == 200
        assert response.mimetype == mimetype
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", (STIX, CSV))
def test_anonymous_exports_go_to_sign_in(app: Flask, path: str) -> None:
    response = Browser(app.test_client()).get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("kind", sorted(READERS))
def test_a_case_exports_as_a_misp_event_to_its_readers_only(
        app: Flask, exchange: Exchange, world: dict[str, Any], kind: str) -> None:
    case_id, text = world["cases"][kind], secrets(kind)
    tier = exchange.cases.view(exchange.directory.authenticate("fra.analyst", PASSWORD),
                               case_id).tier
    path = f"/exports/cases/{case_id}.misp.json"
    for user in USERS:
        state = "XAT" if user == "secretariat" else user[:3].upper()
        answer = signed_in(app, user).get(path)
        if state not in READERS[kind]:
            assert answer.status_code == 404, user
            assert all(secret not in answer.text for secret in text.values())
            continue
        assert answer.status_code == 200, user
        assert answer.headers["Cache-Control"] == "no-store"
        event = MISPEvent()
        event.load(answer.text)  # as a MISP instance's client reads it
        assert (event.info, str(event.uuid)) == (text["title"], misp_uuid(case_id))
        assert event.Orgc.name == "FRA"  # the owner, whoever exports
        assert event.distribution == MISP_DISTRIBUTION[tier]
        assert f"tlp:{TLP[tier]}" in {t.name for t in event.tags}
        by_name = {o.name: o for o in event.objects}
        item = by_name["physical-item"]
        assert item.get_attributes_by_relation("item-number")[0].value == text["serial"]
        assert by_name["organization"].get_attributes_by_relation("name")[0].value == \
            text["actor"]
        places = {a.value for o in event.objects if o.name == "geolocation"
                  for a in o.get_attributes_by_relation("countrycode")}
        assert {"DE", "ML"} <= places
        texts = {a.value for a in event.attributes if a.type == "text"}
        assert {text["narrative"], text["note"]} <= texts
    reader = signed_in(app, "fra.analyst")
    assert reader.get(path).data == reader.get(path).data  # the same event each time
