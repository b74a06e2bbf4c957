"""Fuzzing every other form (sign-in, language, sharing, retention, shredding, contact points,
trace requests, meetings, audit, summaries), and the check that no POST route of the app
escapes the fuzz suite."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import example, given
from hypothesis import strategies as st

from cases.casework.bulk_import import COLUMNS
from cases.kernel.viewer import Viewer
from cases.meetings.meeting import MEETING_STATUSES
from cases.tracing.trace_request import CHECKLIST, OUTCOMES
from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import ITEM, SUMMARY
from tests.web.fuzzing import (
    COUNTRIES,
    FAR_MOMENT,
    FUZZ,
    HUGE_ID,
    LINE_BREAK_NEXT,
    TAB_NEXT,
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
    submit,
    text,
    unknown_country,
    valid_body,
    visit,
    whole_number,
)
from tests.web.test_form_fuzz_admin import COVERED as ADMIN_FORMS
from tests.web.test_form_fuzz_cases import COVERED as CASE_FORMS
from web import create_app
from web.auth import safe_next

STATES = st.lists(st.one_of(st.sampled_from(["DEU", "MLI", "FRA", "deu", " mli "]),
                            unknown_country(), hostile_text()), max_size=3)
SHARE_SPECS = (Spec("tier", choice(["bilateral", "portal"]),
                    not_a_choice(["bilateral", "portal"])),
               Spec("states", st.lists(st.sampled_from(["DEU", "MLI"]), min_size=1, max_size=2),
                    st.lists(unknown_country(), min_size=1, max_size=2)))
RULE_SPECS = (Spec("rule", choice(["years", "indefinite"]), not_a_choice(["years"])),
              Spec("keep_years", whole_number(0, 100), not_a_number_between(0, 100)))
CONTACT_SPECS = (Spec("name", text(200, required=True), st.one_of(blank(), over_long(200))),
                 Spec("office", text(200), over_long(200)),
                 Spec("channel", text(200, required=True), st.one_of(blank(), over_long(200))),
                 Spec("volunteers_to_assist", choice(["yes", ""]), None))
SEND_SPECS = (Spec("requested_state", st.sampled_from(["DEU", "MLI", " deu"]),
                   st.one_of(unknown_country(), blank(), st.sampled_from(["FRA", "USA"]))),
              Spec("questions", text(20_000, required=True),
                   st.one_of(blank(), over_long(20_000))),
              Spec("deadline_days", whole_number(1, 365), not_a_number_between(1, 365)),
              Spec("share_with_case_readers", choice(["yes", ""])))
ANSWER_SPECS = (Spec("outcome", choice(OUTCOMES), not_a_choice(OUTCOMES)),
                Spec("destination", st.one_of(known_country(), st.just("")), unknown_country()),
                Spec("date", st.one_of(past_day(), st.just("")), not_a_past_day()),
                Spec("licence", text(200), over_long(200)),
                Spec("text", text(20_000), over_long(20_000)))
TRACE_STEPS = {
    "more-info": (Spec("checklist", st.lists(choice(CHECKLIST), min_size=1, unique=True),
                       st.lists(not_a_choice(CHECKLIST), min_size=1, max_size=2)),
                  Spec("note", text(20_000), over_long(20_000))),
    "complete": (Spec("note", text(20_000, required=True), st.one_of(blank(),
                                                                     over_long(20_000))),),
    "answer": ANSWER_SPECS,
    "close": (Spec("feedback", text(20_000), over_long(20_000)),),
    "acknowledge": (), "attach": (),
}
CONVENE_SPECS = (Spec("title", text(200, required=True), st.one_of(blank(), over_long(200))),
                 Spec("date", past_day(), st.one_of(blank(), st.sampled_from(
                     ["2024-02-30", "next week", "01/02/2026", "²"]))),
                 Spec("convening_body", text(200), over_long(200)),
                 Spec("participants", st.sampled_from(["FRA DEU", "fra,mli", "DEU MLI FRA"]),
                      st.one_of(blank(), st.sampled_from(["FRA", "FRA FRA", "FRA ZZZ"]))))
MEETING_FIELDS = ("state", "status", "case_id", "text", "concerned", "lesson_id", "on",
                  "kind")
MEETING_ACTIONS = ("admit", "leave", "status", "table", "confirm", "outcome", "lesson",
                   "consent", "withdraw", "chatham")

COVERED = CASE_FORMS | ADMIN_FORMS | {
    "sharing.do_share", "sharing.do_unshare", "retention.set_rule", "retention.do_shred",
    "auth.login", "auth.logout", "auth.language", "directory.set_contact_point",
    "directory.confirm_contact_point", "traces.send", "meetings.convene",
    "summaries.publish_release", "summaries.propose", "summaries.consent",
    "audit.verify", "audit.checkpoint", "audit.cosign", "tokens.issue", "tokens.revoke",
    "second_factor.code", "second_factor.enrol_at_sign_in", "second_factor.enrol",
    "second_factor.regenerate", "second_factor.reset", "inbox.mark_read", "inbox.mark_all_read",
    "mail.set_address", "mail.set_preferences", "mail.remove", "searches.save",
    "searches.delete", "imports.check", "imports.confirm", "contributions.add",
    "contributions.edit", "contributions.withdraw", "contributions.hide",
    "transparency.add_checkpoint",  # not a form: its body is fuzzed in test_tlog.py
    "meetings.discuss", "hits.answer",
    *(f"traces.{step.replace('-', '_')}" for step in TRACE_STEPS),
    *(f"meetings.act:{action}" for action in MEETING_ACTIONS)}


def post_forms(app: Flask) -> set[str]:
    """Every POST form of the app: an endpoint, with each choice of an ``any(…)`` part."""
    found = set()
    for rule in app.url_map.iter_rules():
        # The JSON API is fuzzed from its OpenAPI document (test_api_schemathesis.py).
        if "POST" not in (rule.methods or ()) or rule.rule.startswith("/api/"):
            continue
        choices = re.search(r"<any\(([^)]*)\):", rule.rule)
        if choices:
            found |= {f"{rule.endpoint}:{c.strip()}" for c in choices.group(1).split(",")}
        else:
            found.add(rule.endpoint)
    return found


def test_every_post_form_of_the_app_is_fuzzed(app: Flask) -> None:
    assert sorted(post_forms(app) - COVERED) == [], "a POST form the fuzz suite misses"
    assert sorted(COVERED - post_forms(app)) == [], "fuzzed forms that no longer exist"


@pytest.fixture
def world(app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> dict[str, Any]:
    """A FRA case with an item and a trace request to DEU, a meeting of FRA and DEU with the
    case tabled and a lesson, a DEU case, and signed-in users of each side."""
    cases, fra = exchange.cases, people["FRA"]
    exchange.directory.add_user(people["FRA.admin"], "fra.auditor", PASSWORD, ["auditor"])
    own = cases.open_case(fra, SUMMARY)
    item = cases.add_part(fra, own, 1, "item", ITEM)
    trace = exchange.traces.send(fra, own, "DEU", [item], "Where did these go?")
    meeting = exchange.meetings.convene(people["secretariat"], "Session", "2026-01-10", "",
                                        ["FRA", "DEU"])
    exchange.meetings.table_case(fra, meeting, own)
    lesson = exchange.meetings.propose_lesson(fra, meeting, "Lesson", ["FRA", "DEU"])
    rifle = {"category": "small_arms", "quantity": "1", "make": "Norvik",
             "serial": "NA47-220914", "match_check": "yes"}
    cases.open_case(people["DEU"], {"title": "Stolen"}, items=[rifle])
    cases.open_case(fra, {"title": "Seized"}, items=[rifle])
    hit = exchange.hits.for_state(fra)[0].id
    return {"own": own, "item": item, "trace": trace, "meeting": meeting, "lesson": lesson,
            "hit": hit,
            "other": cases.open_case(people["DEU"], SUMMARY), "fra": fra,
            "analyst": Fuzzer(app, "fra.analyst"), "admin": Fuzzer(app, "fra.admin"),
            "deu": Fuzzer(app, "deu.analyst"), "secretariat": Fuzzer(app, "secretariat"),
            "auditor": Fuzzer(app, "fra.auditor")}


def unthrottled(exchange: Exchange) -> Flask:
    """The app with a sign-in throttle no fuzz run reaches (it has tests of its own)."""
    return create_app(exchange, {"TESTING": True, "WTF_CSRF_ENABLED": True,
                                 "LOGIN_RATE_LIMIT": "100000 per minute"})


def some_id(draw: Any, *known: Any) -> str:
    return str(draw(st.sampled_from([*known, *known, uuid.uuid4()])))


def with_version(draw: Any, exchange: Exchange, world: dict[str, Any]) -> list:
    current = exchange.cases.view(world["fra"], world["own"]).version
    return [("expected_version", draw(st.one_of(st.just(str(current)), st.just(str(current)),
                                                hostile_text())))]


@FUZZ
@given(data=st.data())
def test_sharing_forms_survive_any_body(world: dict[str, Any], exchange: Exchange,
                                        data: Any) -> None:
    action = data.draw(st.sampled_from(["share", "unshare"]))
    specs = SHARE_SPECS if action == "share" else SHARE_SPECS[1:]
    case_id = some_id(data.draw, world["own"], world["other"])
    body = data.draw(anything(specs)) + with_version(data.draw, exchange, world)
    submit(world["analyst"], exchange, f"/cases/{case_id}/{action}", body, ["tier", "states"])


@FUZZ
@given(data=st.data())
def test_sharing_refuses_one_bad_field_next_to_it(world: dict[str, Any], exchange: Exchange,
                                                  data: Any) -> None:
    spec = data.draw(st.sampled_from(SHARE_SPECS))
    if spec.name == "states":  # the portal names no states: only a bilateral share does
        body = [("tier", "bilateral"), *((spec.name, v) for v in data.draw(spec.invalid))]
    else:
        body = [(spec.name, data.draw(spec.invalid)), ("states", "DEU")]
    body.append(("expected_version", str(exchange.cases.view(world["fra"],
                                                             world["own"]).version)))
    refused_next_to(world["analyst"], exchange, f"/cases/{world['own']}/share", body,
                    spec.name, ["tier", "states"])


@FUZZ
@given(cells=st.lists(st.tuples(st.sampled_from(COLUMNS), hostile_text()), max_size=6),
       rows=st.integers(0, 3))
@example(cells=[("quantity", "9" * 30), ("serial", "\x00")], rows=1)
@example(cells=[("title", '"unclosed')], rows=2)
def test_an_import_survives_any_file(world: dict[str, Any], exchange: Exchange,
                                     cells: list[tuple[str, str]], rows: int) -> None:
    columns = list(dict.fromkeys(["title", *(c for c, _ in cells)]))
    values = dict(cells)
    lines = [",".join(columns), *[",".join(values.get(c, "") for c in columns)] * rows]
    confirmed = submit(world["analyst"], exchange, "/cases/import/confirm",
                       [("content", "\n".join(lines)), ("name", "register.csv")], shows=True)
    if confirmed.status_code == 200:  # the streamed page, read to its end: it says how it went
        assert re.search(r'<p class="(done|error)"', confirmed.get_data(as_text=True))
    submit(world["analyst"], exchange, "/cases/import", [("file", "\n".join(lines))],
           ["file"])


@FUZZ
@given(kind=st.one_of(hostile_text(), st.sampled_from(["comment", "information", "answer"])),
       words=hostile_text(), step=st.sampled_from(["edit", "hide", "withdraw"]),
       data=st.data())
def test_contributions_survive_any_body(world: dict[str, Any], exchange: Exchange, kind: str,
                                        words: str, step: str, data: Any) -> None:
    case_id = some_id(data.draw, world["own"], world["other"])
    submit(world["analyst"], exchange, f"/cases/{case_id}/contributions",
           [("kind", kind), ("text", words)], ["kind", "text"])
    contribution = exchange.contributions.contribute(world["fra"], world["own"], "comment",
                                                     "A comment to act on.")
    target = some_id(data.draw, contribution)
    submit(world["analyst"], exchange, f"/contributions/{target}/{step}",
           [("text", words), ("reason", words)], ["text", "reason"])


@FUZZ
@given(body=anything(RULE_SPECS))
@example(body=[("rule", "years"), ("keep_years", "²")])
@example(body=[("rule", "years"), ("keep_years", "9" * 5000)])
def test_retention_rule_survives_any_body(world: dict[str, Any], exchange: Exchange,
                                          body: list) -> None:
    case_id = world["own"]
    submit(world["admin"], exchange, f"/cases/{case_id}/retention", body, ["keep_years"])
    confirm = world["admin"].get(f"/cases/{case_id}/retention/confirm?" + "&".join(
        f"{k}={v}" for k, v in body if isinstance(v, str) and v.isalnum()))
    assert confirm.status_code < 500


@FUZZ
@given(years=not_a_number_between(0, 100))
@example(years="²")
@example(years="9" * 5000)
def test_retention_refuses_a_wrong_number_of_years_next_to_it(
        world: dict[str, Any], exchange: Exchange, years: str) -> None:
    refused_next_to(world["admin"], exchange, f"/cases/{world['own']}/retention",
                    [("rule", "years"), ("keep_years", years)], "keep_years", ["keep_years"])


@FUZZ
@given(step=st.one_of(hostile_text(), st.sampled_from(["request", "confirm", "withdraw"])),
       data=st.data())
def test_shredding_survives_any_step(world: dict[str, Any], exchange: Exchange, step: str,
                                     data: Any) -> None:
    case_id = some_id(data.draw, world["own"], world["other"])
    submit(world["admin"], exchange, f"/cases/{case_id}/shred", [("step", step)], ["step"])


@FUZZ
@given(body=st.lists(st.tuples(st.sampled_from(["username", "password", "next"]),
                               st.one_of(hostile_text(), st.sampled_from(
                                   ["fra.analyst", PASSWORD, "//evil.example", "/cases/"]))),
                     max_size=4))
@example(body=[("username", "fra\x00analyst"), ("password", "x")])
@example(body=[("username", "fra.analyst"), ("password", PASSWORD), ("next", "//evil.example")])
@example(body=[("username", "fra.analyst"), ("password", PASSWORD), ("next", LINE_BREAK_NEXT)])
@example(body=[("username", "fra.analyst"), ("password", PASSWORD), ("next", TAB_NEXT)])
def test_sign_in_survives_any_body_and_never_leaves_the_site(exchange: Exchange, people: dict,
                                                            body: list) -> None:
    response = submit(Fuzzer(unthrottled(exchange), ""), exchange, "/login", body)
    if response.status_code == 302:
        assert safe_next(response.headers["Location"]) == response.headers["Location"]


@FUZZ
@given(body=st.lists(st.tuples(st.sampled_from(["lang", "next", "x"]), st.one_of(
    hostile_text(), st.sampled_from(["fr", "es", "//evil.example", "\\\\evil"]))), max_size=4),
    action=st.sampled_from(["language", "logout"]))
@example(body=[("lang", "fr"), ("next", LINE_BREAK_NEXT)], action="language")
@example(body=[("lang", "es"), ("next", TAB_NEXT)], action="language")
def test_language_and_sign_out_survive_any_body(exchange: Exchange, people: dict,
                                                body: list, action: str) -> None:
    # A new session each time: signing out ends the one the CSRF token belongs to.
    response = submit(Fuzzer(unthrottled(exchange), "deu.analyst"), exchange, f"/{action}",
                      body)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert safe_next(location) == location


@FUZZ
@given(code=st.one_of(hostile_text(), st.text(alphabet="0123456789 -", max_size=14)),
       step=st.sampled_from(["code", "enrol"]))
def test_second_factor_sign_in_steps_survive_any_code(
        world: dict[str, Any], exchange: Exchange, people: dict[str, Viewer], code: str,
        step: str) -> None:
    """fra.admin is enrolled (the world signed it in); fra.newadmin must enrol."""
    username = "fra.admin" if step == "code" else "fra.newadmin"
    if step == "enrol" and not any(u.username == username
                                   for u in exchange.directory.users_of_state("FRA")):
        exchange.directory.add_user(people["FRA.admin"], username, PASSWORD, ["state_admin"])
    exchange.directory.lockout.succeeded(username, "127.0.0.1")  # each example starts afresh
    fuzzer = Fuzzer(unthrottled(exchange), "")
    signed = fuzzer.browser.post("/login", {"username": username, "password": PASSWORD})
    assert signed.location == f"/login/{step}"
    submit(fuzzer, exchange, f"/login/{step}", [("code", code)], ["code"])


@FUZZ
@given(value=st.one_of(hostile_text(), st.just(PASSWORD),
                       st.sampled_from(["fra.analyst", "deu.analyst", "fra.admin"])),
       form=st.sampled_from(["enrol", "recovery-codes", "reset"]))
def test_security_forms_survive_any_body(world: dict[str, Any], exchange: Exchange,
                                         value: str, form: str) -> None:
    field = {"enrol": "code", "recovery-codes": "password", "reset": "username"}[form]
    fuzzer = world["analyst"] if form == "enrol" else world["admin"]
    submit(fuzzer, exchange, f"/account/security/{form}", [(field, value)], [field],
           shows=True)


TOKEN_SPECS = (Spec("name", text(80, required=True), st.one_of(blank(), over_long(80))),
               Spec("roles", st.just("analyst"), not_a_choice(["analyst"])),
               Spec("days", whole_number(1, 365), not_a_number_between(1, 365)),
               Spec("password", st.just(PASSWORD), hostile_text()))


@FUZZ
@given(body=anything(TOKEN_SPECS), token_id=st.one_of(hostile_text(), st.just("")))
@example(body=[("name", "NCS"), ("days", "²"), ("password", PASSWORD)], token_id="")
@example(body=[("name", "NCS"), ("days", "9" * 5000), ("password", PASSWORD)], token_id="")
def test_api_token_forms_survive_any_body(world: dict[str, Any], exchange: Exchange,
                                          body: list, token_id: str) -> None:
    submit(world["analyst"], exchange, "/account/tokens/", body,
           [s.name for s in TOKEN_SPECS], shows=True)
    if token_id.strip() and "/" not in token_id and "?" not in token_id \
            and "#" not in token_id:
        submit(world["analyst"], exchange, f"/account/tokens/{token_id}/revoke", [])


@FUZZ
@given(body=anything(CONTACT_SPECS), confirm=st.booleans())
def test_contact_point_forms_survive_any_body(world: dict[str, Any], exchange: Exchange,
                                              body: list, confirm: bool) -> None:
    path = "/directory/contact-point" + ("/confirm" if confirm else "")
    submit(world["admin"], exchange, path, body, [s.name for s in CONTACT_SPECS])


@FUZZ
@given(data=st.data())
def test_contact_point_keeps_what_was_typed_or_says_why_not(
        world: dict[str, Any], exchange: Exchange, data: Any) -> None:
    spec = data.draw(st.sampled_from([None, *CONTACT_SPECS[:3]]))
    body, drawn = valid_body(data.draw, [s for s in CONTACT_SPECS if s is not spec])
    if spec is None:
        response = submit(world["admin"], exchange, "/directory/contact-point", body)
        assert response.status_code == 302
        point = exchange.directory.state("FRA").contact_point
        assert {k: point[k] for k in ("name", "office", "channel")} == {
            k: drawn[k].strip() for k in ("name", "office", "channel")}
    else:
        body.append((spec.name, data.draw(spec.invalid)))
        refused_next_to(world["admin"], exchange, "/directory/contact-point", body, spec.name,
                        [s.name for s in CONTACT_SPECS])


@FUZZ
@given(data=st.data())
@example(data=None)
def test_trace_request_form_survives_any_body(world: dict[str, Any], exchange: Exchange,
                                              data: Any) -> None:
    if data is None:  # regression: an unknown item was refused, but not next to the items
        body = [("requested_state", "DEU"), ("questions", "Q"), ("items", "nope")]
        refused_next_to(world["analyst"], exchange, f"/traces/new/{world['own']}", body,
                        "items", ["items"])
        return
    items = data.draw(st.lists(st.one_of(st.just(world["item"]), hostile_text()), max_size=3))
    body = data.draw(anything(SEND_SPECS)) + [("items", i) for i in items]
    case_id = some_id(data.draw, world["own"], world["other"])
    submit(world["analyst"], exchange, f"/traces/new/{case_id}", body,
           [s.name for s in SEND_SPECS] + ["items"])


@FUZZ
@given(data=st.data())
def test_trace_request_keeps_the_questions_or_says_which_field_is_wrong(
        world: dict[str, Any], exchange: Exchange, data: Any) -> None:
    spec = data.draw(st.sampled_from([None, *SEND_SPECS[:3]]))
    body, drawn = valid_body(data.draw, [s for s in SEND_SPECS if s is not spec])
    body.append(("items", world["item"]))
    path = f"/traces/new/{world['own']}"
    if spec is None:
        response = submit(world["analyst"], exchange, path, body)
        assert response.status_code == 302
        trace_id = uuid.UUID(response.headers["Location"].rsplit("/", 1)[1])
        assert exchange.traces.view(world["fra"], trace_id).questions == \
            drawn["questions"].strip()
    else:
        body.append((spec.name, data.draw(spec.invalid)))
        refused_next_to(world["analyst"], exchange, path, body, spec.name,
                        [s.name for s in SEND_SPECS])


@FUZZ
@given(data=st.data())
def test_trace_steps_survive_any_body(world: dict[str, Any], exchange: Exchange,
                                      data: Any) -> None:
    step = data.draw(st.sampled_from(sorted(TRACE_STEPS)))
    who = data.draw(st.sampled_from(["analyst", "deu"]))
    trace_id = some_id(data.draw, world["trace"])
    body = data.draw(anything(TRACE_STEPS[step]))
    if step == "attach":
        body += with_version(data.draw, exchange, world)
    submit(world[who], exchange, f"/traces/{trace_id}/{step}", body,
           [s.name for s in TRACE_STEPS[step]])


@FUZZ
@given(data=st.data())
def test_trace_answer_refuses_one_bad_field_next_to_it(world: dict[str, Any],
                                                       exchange: Exchange, data: Any) -> None:
    spec = data.draw(st.sampled_from(ANSWER_SPECS))
    body, _ = valid_body(data.draw, [s for s in ANSWER_SPECS if s is not spec])
    body.append((spec.name, data.draw(spec.invalid)))
    refused_next_to(world["deu"], exchange, f"/traces/{world['trace']}/answer", body,
                    spec.name, [s.name for s in ANSWER_SPECS])


@FUZZ
@given(body=anything(CONVENE_SPECS))
def test_convening_survives_any_body(world: dict[str, Any], exchange: Exchange,
                                     body: list) -> None:
    submit(world["secretariat"], exchange, "/meetings/new", body,
           [s.name for s in CONVENE_SPECS])


@FUZZ
@given(data=st.data())
@example(data=None)
def test_convening_keeps_what_was_typed_or_says_which_field_is_wrong(
        world: dict[str, Any], exchange: Exchange, data: Any) -> None:
    if data is None:  # regression: a long convening body was cut to 200 characters
        body = [("title", "T"), ("date", "2026-01-01"), ("participants", "FRA DEU"),
                ("convening_body", "c" * 201)]
        refused_next_to(world["secretariat"], exchange, "/meetings/new", body,
                        "convening_body", [s.name for s in CONVENE_SPECS])
        return
    spec = data.draw(st.sampled_from([None, *CONVENE_SPECS]))
    body, drawn = valid_body(data.draw, [s for s in CONVENE_SPECS if s is not spec])
    if spec is None:
        response = submit(world["secretariat"], exchange, "/meetings/new", body)
        assert response.status_code == 302
        meeting = exchange.meetings.view(world["fra"], uuid.UUID(
            response.headers["Location"].rsplit("/", 1)[1]))
        assert (meeting.title, meeting.convening_body) == (
            drawn["title"].strip(), drawn["convening_body"].strip())
    else:
        body.append((spec.name, data.draw(spec.invalid)))
        refused_next_to(world["secretariat"], exchange, "/meetings/new", body, spec.name,
                        [s.name for s in CONVENE_SPECS])


@FUZZ
@given(data=st.data())
@example(data=None)
def test_meeting_actions_survive_any_body(world: dict[str, Any], exchange: Exchange,
                                          data: Any) -> None:
    if data is None:  # regression: an outcome over 20000 characters was cut silently
        body = [("case_id", str(world["own"])), ("text", "o" * 20_001)]
        submit(world["analyst"], exchange, f"/meetings/{world['meeting']}/outcome", body)
        assert exchange.meetings.view(world["fra"], world["meeting"]).outcomes == {}
        return
    action = data.draw(st.sampled_from([*MEETING_ACTIONS, "discussion"]))
    who = data.draw(st.sampled_from(["analyst", "deu", "secretariat", "admin"]))
    meeting = some_id(data.draw, world["meeting"])
    known = {"state": st.sampled_from(["FRA", "DEU", "MLI", *COUNTRIES[:3]]),
             "status": choice(MEETING_STATUSES), "case_id": st.sampled_from(
                 [str(world["own"]), str(world["other"])]), "text": text(20_000),
             "concerned": st.sampled_from(["FRA DEU", "FRA", "DEU,MLI"]),
             "lesson_id": st.just(world["lesson"]), "on": choice(["yes", "no"]),
             "kind": choice(["comment", "information", "answer"])}
    body = data.draw(anything([Spec(name, known[name]) for name in MEETING_FIELDS]))
    submit(world[who], exchange, f"/meetings/{meeting}/{action}", body, MEETING_FIELDS)


@FUZZ
@given(data=st.data())
def test_hit_answers_survive_any_body(world: dict[str, Any], exchange: Exchange,
                                      data: Any) -> None:
    who = data.draw(st.sampled_from(["analyst", "deu", "secretariat", "admin"]))
    hit = some_id(data.draw, world["hit"])
    answers = ["case_shared", "trace_sent", "dismissed"]
    body = data.draw(anything([Spec("answer", choice(answers), not_a_choice(answers))]))
    submit(world[who], exchange, f"/hits/{hit}/answer", body, ["answer"])


@FUZZ
@given(data=st.data())
def test_audit_and_summary_actions_survive_any_body(world: dict[str, Any],
                                                    exchange: Exchange, data: Any) -> None:
    path, who = data.draw(st.sampled_from([
        ("/audit/verify", "auditor"), ("/audit/checkpoint", "auditor"),
        ("/audit/cosign", "auditor"), ("/audit/verify", "analyst"),
        ("/summaries/releases", "secretariat"), ("/summaries/releases", "analyst"),
        (f"/summaries/cases/{world['own']}/propose", "analyst"),
        (f"/summaries/cases/{world['other']}/propose", "analyst"),
        (f"/summaries/cases/{uuid.uuid4()}/consent", "deu"),
        (f"/summaries/cases/{world['own']}/consent", "deu")]))
    body = data.draw(anything([Spec("year", whole_number(2015, 2025)),
                               Spec("given", choice(["yes", "no"]))]))
    submit(world[who], exchange, path, body, ["year", "given"], shows=path == "/audit/verify")


@FUZZ
@given(moment=st.one_of(hostile_text(), not_a_past_day(), past_day()),
       event=st.one_of(st.integers(0, 10**30).map(str), hostile_text()))
@example(moment=FAR_MOMENT, event=HUGE_ID)
@example(moment="0001-01-01T00:00:00+23:59", event=str(2**63))
def test_audit_pages_survive_any_moment_and_event_id(world: dict[str, Any], moment: str,
                                                     event: str) -> None:
    auditor, quoted = world["auditor"], quote(moment, safe="")
    for path in (f"/audit/cases/{world['own']}?at={quoted}",
                 f"/audit/access?state=DEU&at={quoted}",
                 f"/audit/?since={quoted}&until={quoted}",
                 f"/audit/events/{quote(event, safe='')}"):
        visit(auditor, path)


@FUZZ
@given(year=st.one_of(not_a_number_between(2014, date.today().year - 1), blank()))
@example(year="-5")
@example(year="0")
def test_a_release_of_an_impossible_year_is_refused(world: dict[str, Any], exchange: Exchange,
                                                    year: str) -> None:
    response = submit(world["secretariat"], exchange, "/summaries/releases", [("year", year)])
    assert 400 <= response.status_code < 500


@FUZZ
@given(ids=st.lists(st.one_of(hostile_text(), st.just(str(uuid.uuid4()))), max_size=3),
       action=st.sampled_from(["read", "read-all"]), next_page=st.one_of(
           hostile_text(), st.sampled_from(["/inbox/?kind=case_shared", "//evil.example"])))
def test_inbox_marks_survive_any_body_and_never_leave_the_site(
        world: dict[str, Any], exchange: Exchange, ids: list[str], action: str,
        next_page: str) -> None:
    body = [("item_id", i) for i in ids] + [("next", next_page)]
    response = submit(world["deu"], exchange, f"/inbox/{action}", body, ["item_id"])
    if response.status_code == 302:
        assert safe_next(response.headers["Location"]) == response.headers["Location"]


@FUZZ
@given(form=st.sampled_from(["address", "preferences", "remove"]), data=st.data())
@example(form="address", data=None)
def test_mail_settings_survive_any_body(world: dict[str, Any], exchange: Exchange, form: str,
                                        data: Any) -> None:
    if data is None:  # regression guard: a bad address is refused next to the field
        refused_next_to(world["analyst"], exchange, "/account/mail/address",
                        [("address", "not an address")], "address", ["address"])
        return
    if form == "address":
        body = [("address", data.draw(st.one_of(hostile_text(), st.just("fra@mail.example"),
                                                over_long(254))))]
    else:
        body = data.draw(st.lists(st.tuples(
            st.one_of(st.sampled_from(["mode-case_shared", "mode-trace_received"]),
                      hostile_text()),
            st.one_of(st.sampled_from(["immediately", "daily", "never"]), hostile_text())),
            max_size=3))
    submit(world["analyst"], exchange, f"/account/mail/{form}", body,
           ["address", "mode-case_shared", "mode-trace_received"])


SAVED_SEARCH_FIELDS = ("name", "q", "status", "tier", "category", "point_of_diversion",
                       "concerned")


@FUZZ
@given(body=st.lists(st.tuples(st.sampled_from(SAVED_SEARCH_FIELDS), hostile_text()),
                     max_size=8),
       search_id=st.one_of(hostile_text(), st.just("")))
@example(body=[("name", "Serials"), ("q", "kr 2291")], search_id="")
@example(body=[("name", "x" * 5000), ("q", "\x00")], search_id="..")
def test_saved_search_forms_survive_any_body(world: dict[str, Any], exchange: Exchange,
                                             body: list, search_id: str) -> None:
    submit(world["analyst"], exchange, "/cases/searches/", body, SAVED_SEARCH_FIELDS,
           shows=True)
    if search_id.strip() and not set("/?#%") & set(search_id):
        submit(world["analyst"], exchange, f"/cases/searches/{search_id}/delete", [])
