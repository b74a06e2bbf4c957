"""Fuzzing the case forms (summary, items, actors, route legs, notes, removal, status):
hostile input is refused next to its field and stores nothing; valid input round-trips."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from flask import Flask
from hypothesis import example, given
from hypothesis import strategies as st

from cases.casework.case import STATUSES
from cases.casework.content import (
    ACTOR_ROLES,
    CONCERNED_ROLES,
    ITEM_CATEGORIES,
    ITEM_FLAGS,
    MARKING_CONDITIONS,
    POINTS_OF_DIVERSION,
    TRANSPORT_MODES,
)
from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.web.conftest import ACTOR, ITEM, LEG, SUMMARY, error_next_to
from tests.web.fuzzing import (
    FUZZ,
    Fuzzer,
    Spec,
    anything,
    blank,
    choice,
    hostile_text,
    known_country,
    not_a_choice,
    not_a_number_between,
    not_a_past_day,
    over_long,
    past_day,
    refused_next_to,
    shown,
    submit,
    text,
    unknown_country,
    upper,
    valid_body,
    whole_number,
)


def optional(strategy: Any) -> Any:
    return st.one_of(strategy, st.just(""))


def or_default(default: Any) -> Any:
    return lambda v: v.strip() or default


def year_or_none(value: str) -> int | None:
    return int(value) if value.strip() else None


SUMMARY_SPECS = (
    Spec("title", text(200, required=True), st.one_of(over_long(200), blank())),
    Spec("narrative", text(20_000), over_long(20_000)),
    Spec("point_of_diversion", optional(choice(POINTS_OF_DIVERSION)),
         not_a_choice(POINTS_OF_DIVERSION), or_default("unknown")),
    Spec("found_on", optional(past_day()), not_a_past_day()),
    Spec("found_at", text(200), over_long(200)),
    *(Spec(f"concerned_{role}", optional(known_country()), unknown_country(), upper)
      for role in CONCERNED_ROLES),
)
ITEM_SPECS = (
    Spec("category", choice(ITEM_CATEGORIES), not_a_choice(ITEM_CATEGORIES)),
    Spec("quantity", whole_number(1, 10_000_000),
         st.one_of(not_a_number_between(1, 10_000_000), blank()), int),
    Spec("hs_code", optional(st.from_regex(r"\A93[0-9]{4,8}\Z")),
         st.sampled_from(["93", "9301a0", "930190930190", "abcdef",
                          "\uff19\uff13\uff10\uff11\uff19\uff10"])),
    Spec("make", text(200), over_long(200)),
    Spec("model", text(200), over_long(200)),
    # One serial number (the list form has its own tests): a line of at most 100 characters.
    Spec("serial", text(100).filter(lambda s: not ({"\n", "\r"} & set(s))), over_long(100)),
    Spec("year", optional(whole_number(1850, date.today().year)),
         not_a_number_between(1850, date.today().year), year_or_none),
    Spec("calibre", text(50), over_long(50)),
    Spec("country_of_manufacture", optional(known_country()), unknown_country(), upper),
    Spec("import_marking", text(200), over_long(200)),
    Spec("marking_condition", optional(choice(MARKING_CONDITIONS)),
         not_a_choice(MARKING_CONDITIONS), or_default("")),  # unknown stays unknown
    Spec("flags", st.lists(choice(ITEM_FLAGS), unique=True, max_size=4),
         st.lists(not_a_choice(ITEM_FLAGS), min_size=1, max_size=2), sorted),
    Spec("lot", text(100), over_long(100)),
    Spec("headstamp", text(100), over_long(100)),
    Spec("match_check", optional(choice(("yes", "no"))), not_a_choice(("yes", "no")),
         or_default("")),  # left empty: the owner did not choose the check
)
ACTOR_SPECS = (
    Spec("role", choice(ACTOR_ROLES), not_a_choice(ACTOR_ROLES)),
    Spec("name", text(200, required=True), st.one_of(over_long(200), blank())),
    Spec("country", optional(known_country()), unknown_country(), upper),
    Spec("notes", text(2000), over_long(2000)),
)
LEG_SPECS = (
    Spec("origin", known_country(), st.one_of(unknown_country(), blank()), upper),
    Spec("destination", known_country(), st.one_of(unknown_country(), blank()), upper),
    Spec("mode", optional(choice(TRANSPORT_MODES)), not_a_choice(TRANSPORT_MODES),
         or_default("unknown")),
    Spec("date", optional(past_day()), not_a_past_day()),
    Spec("notes", text(2000), over_long(2000)),
)
NOTE_SPECS = (Spec("text", text(20_000, required=True), st.one_of(over_long(20_000), blank())),)
PARTS = {"item": ITEM_SPECS, "actor": ACTOR_SPECS, "leg": LEG_SPECS, "note": NOTE_SPECS}
STATUS_SPECS = (Spec("status", choice(STATUSES), not_a_choice(STATUSES)),
                Spec("reason", text(2000), over_long(2000)))
GARBAGE_VERSION = st.one_of(hostile_text(), st.integers(-5, 10**6).map(str))

# What the tests of this file cover, for the completeness check in test_form_fuzz.py.
COVERED = {"cases.create", "cases.revise_summary", "cases.change_status",
           *(f"cases.add_part:{kind}" for kind in PARTS),
           *(f"cases.revise_part:{kind}" for kind in ("item", "actor")),
           *(f"cases.{action}_part:{kind}" for action in ("remove", "restore")
             for kind in ("item", "actor", "leg"))}


@pytest.fixture
def world(app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> dict[str, Any]:
    """A FRA case with a part of each kind, a DEU case FRA reads, and one it does not."""
    cases, fra, deu = exchange.cases, people["FRA"], people["DEU"]
    own = cases.open_case(fra, SUMMARY)
    parts = {kind: cases.add_part(fra, own, version, kind, body) for version, (kind, body)
             in enumerate((("item", ITEM), ("actor", ACTOR), ("leg", LEG)), start=1)}
    shared = cases.open_case(deu, SUMMARY)
    cases.share(deu, shared, 1, "bilateral", ["FRA"])
    hidden = cases.open_case(deu, SUMMARY)
    return {"own": own, "parts": parts, "shared": shared, "hidden": hidden,
            "analyst": Fuzzer(app, "fra.analyst"), "fra": fra}


def version_pairs(draw: Any, exchange: Exchange, viewer: Viewer, case_id: Any) -> list:
    """Mostly the current version; else stale, garbage, duplicated or missing."""
    how = draw(st.sampled_from(["current", "current", "current", "stale", "garbage",
                                "missing", "twice"]))
    try:
        current = exchange.cases.view(viewer, case_id).version
    except Exception:  # another state's case: any number will do
        current = 1
    if how == "missing":
        return []
    value = {"current": str(current), "stale": str(current - 1),
             "garbage": draw(GARBAGE_VERSION), "twice": str(current)}[how]
    return [("expected_version", value)] + ([("expected_version", "0")] if how == "twice"
                                            else [])


def target(draw: Any, world: dict[str, Any]) -> Any:
    """Mostly the user's own case; sometimes another state's, or a random id."""
    return draw(st.sampled_from([world["own"]] * 4 + [world["shared"], world["hidden"],
                                                      uuid.uuid4()]))


def field_names(specs: Any) -> list[str]:
    return [s.name for s in specs] + ["expected_version"]


@FUZZ
@given(body=anything(SUMMARY_SPECS))
@example(body=[("title", "a\x00b"), ("concerned_exporter", "F'R")])
@example(body=[("title", "x" * 600_000)])
def test_new_case_form_survives_any_body(world: dict[str, Any], exchange: Exchange,
                                         body: list) -> None:
    submit(world["analyst"], exchange, "/cases/new", body, field_names(SUMMARY_SPECS))


@FUZZ
@given(data=st.data())
def test_new_case_refuses_one_bad_field_next_to_it(world: dict[str, Any], exchange: Exchange,
                                                   data: Any) -> None:
    spec = data.draw(st.sampled_from([s for s in SUMMARY_SPECS if s.invalid is not None]))
    body, _ = valid_body(data.draw, [s for s in SUMMARY_SPECS if s is not spec])
    body.append((spec.name, data.draw(spec.invalid)))
    refused_next_to(world["analyst"], exchange, "/cases/new", body, spec.name,
                    field_names(SUMMARY_SPECS))


def expected_summary(drawn: dict[str, Any]) -> dict[str, Any]:
    specs = {s.name: s for s in SUMMARY_SPECS}
    return {"title": drawn["title"].strip(), "narrative": drawn["narrative"].strip(),
            "point_of_diversion": specs["point_of_diversion"].expect(
                drawn["point_of_diversion"]),
            "found_on": drawn["found_on"].strip(), "found_at": drawn["found_at"].strip(),
            "concerned": {role: upper(drawn[f"concerned_{role}"]) for role in CONCERNED_ROLES
                          if drawn[f"concerned_{role}"].strip()}}


@FUZZ
@given(data=st.data())
def test_valid_summary_is_accepted_and_shown_as_typed(world: dict[str, Any],
                                                      exchange: Exchange, data: Any) -> None:
    fuzzer, fra, case_id = world["analyst"], world["fra"], world["own"]
    body, drawn = valid_body(data.draw, SUMMARY_SPECS)
    version = exchange.cases.view(fra, case_id).version
    response = submit(fuzzer, exchange, f"/cases/{case_id}/summary",
                      [*body, ("expected_version", str(version))])
    assert response.status_code == 302, body
    assert exchange.cases.view(fra, case_id).summary == expected_summary(drawn)
    page = fuzzer.get(f"/cases/{case_id}").text
    assert shown(drawn["title"].strip(), page) and shown(drawn["narrative"].strip(), page)


@FUZZ
@given(data=st.data())
def test_summary_revision_survives_any_body(world: dict[str, Any], exchange: Exchange,
                                            data: Any) -> None:
    case_id = target(data.draw, world)
    body = data.draw(anything(SUMMARY_SPECS)) + version_pairs(
        data.draw, exchange, world["fra"], case_id)
    submit(world["analyst"], exchange, f"/cases/{case_id}/summary", body,
           field_names(SUMMARY_SPECS))


@FUZZ
@given(data=st.data())
def test_part_forms_survive_any_body(world: dict[str, Any], exchange: Exchange,
                                     data: Any) -> None:
    kind = data.draw(st.sampled_from(sorted(PARTS)))
    case_id = target(data.draw, world)
    body = data.draw(anything(PARTS[kind])) + version_pairs(data.draw, exchange, world["fra"],
                                                            case_id)
    submit(world["analyst"], exchange, f"/cases/{case_id}/{kind}/new", body,
           field_names(PARTS[kind]))


@FUZZ
@given(data=st.data())
def test_part_forms_refuse_one_bad_field_next_to_it(world: dict[str, Any],
                                                    exchange: Exchange, data: Any) -> None:
    kind = data.draw(st.sampled_from(sorted(PARTS)))
    spec = data.draw(st.sampled_from([s for s in PARTS[kind] if s.invalid is not None]))
    body, _ = valid_body(data.draw, [s for s in PARTS[kind] if s is not spec])
    value = data.draw(spec.invalid)
    body += [(spec.name, v) for v in (value if isinstance(value, list) else [value])]
    version = exchange.cases.view(world["fra"], world["own"]).version
    body.append(("expected_version", str(version)))
    refused_next_to(world["analyst"], exchange, f"/cases/{world['own']}/{kind}/new", body,
                    spec.name, field_names(PARTS[kind]))


def stored_part(kind: str, drawn: dict[str, Any]) -> dict[str, Any]:
    expected = {s.name: s.expect(drawn[s.name]) for s in PARTS[kind]}
    if kind == "item":
        expected["hs_code"] = drawn["hs_code"].strip()
    return expected


@FUZZ
@given(data=st.data())
def test_valid_parts_are_accepted_and_shown_as_typed(world: dict[str, Any],
                                                     exchange: Exchange, data: Any) -> None:
    fuzzer, fra, case_id = world["analyst"], world["fra"], world["own"]
    kind = data.draw(st.sampled_from(sorted(PARTS)))
    body, drawn = valid_body(data.draw, PARTS[kind])
    version = exchange.cases.view(fra, case_id).version
    response = submit(fuzzer, exchange, f"/cases/{case_id}/{kind}/new",
                      [*body, ("expected_version", str(version))])
    assert response.status_code == 302, body
    case = exchange.cases.view(fra, case_id)
    stored = {"item": case.items, "actor": case.actors, "leg": case.legs}.get(kind)
    newest = list(stored.values())[-1] if stored is not None else case.notes[-1]
    assert {k: newest[k] for k in drawn} == stored_part(kind, drawn)
    page = fuzzer.get(f"/cases/{case_id}").text
    for name in ("name", "serial", "make", "notes", "text", "headstamp"):
        if name in drawn:
            assert shown(newest[name], page), name


@FUZZ
@given(data=st.data())
def test_part_revision_and_removal_survive_any_body(world: dict[str, Any],
                                                    exchange: Exchange, data: Any) -> None:
    kind = data.draw(st.sampled_from(["item", "actor", "leg"]))
    action = data.draw(st.sampled_from(["remove", "restore"] if kind == "leg"
                                       else ["edit", "remove", "restore"]))
    part_id = data.draw(st.one_of(st.just(world["parts"][kind]), st.sampled_from(
        list(world["parts"].values())), st.text("abcdef0123456789", min_size=1, max_size=12),
        st.sampled_from(["..", "%00", "x" * 300])))
    case_id = target(data.draw, world)
    body = data.draw(anything(PARTS[kind])) if action == "edit" else \
        [("removed_at", data.draw(st.one_of(st.integers(-3, 40).map(str), hostile_text())))] \
        if action == "restore" else []
    body += version_pairs(data.draw, exchange, world["fra"], case_id)
    submit(world["analyst"], exchange, f"/cases/{case_id}/{kind}/{part_id}/{action}", body,
           field_names(PARTS[kind]))


@FUZZ
@given(data=st.data())
def test_status_form_survives_any_body(world: dict[str, Any], exchange: Exchange,
                                       data: Any) -> None:
    case_id = target(data.draw, world)
    body = data.draw(anything(STATUS_SPECS)) + version_pairs(data.draw, exchange, world["fra"],
                                                             case_id)
    submit(world["analyst"], exchange, f"/cases/{case_id}/status", body,
           field_names(STATUS_SPECS))


@FUZZ
@given(reason=st.one_of(text(2000), over_long(2000)))
@example(reason="r" * 2001)
def test_status_reason_is_kept_whole_or_refused(world: dict[str, Any], exchange: Exchange,
                                                reason: str) -> None:
    fra, case_id = world["fra"], world["own"]
    case = exchange.cases.view(fra, case_id)
    nxt = "unfounded" if case.status in ("suspected", "under_investigation") else \
        "under_investigation"
    response = submit(world["analyst"], exchange, f"/cases/{case_id}/status",
                      [("status", nxt), ("reason", reason),
                       ("expected_version", str(case.version))], field_names(STATUS_SPECS))
    if len(reason.strip()) > 2000:
        assert response.status_code == 422 and error_next_to(response, "reason")
    else:
        assert response.status_code == 302
        assert exchange.cases.view(fra, case_id).status_changes[-1]["reason"] == reason.strip()
