"""Cases: logging, parts, lifecycle, sharing tiers and key rotation, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cases.casework.content import serials
from cases.identity.directory import user_id
from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from crypto import CryptoError, unwrap_case_key
from infra.wiring import Exchange, open_exchange, prepare_store
from projections.case_index import CaseFilter, CaseRow
from tests.conftest import PASSWORD, register_states

SUMMARY = {"title": "Rifles found in a cache near the border",
           "narrative": "Forty rifles with erased serials.",
           "point_of_diversion": "at_or_after_delivery",
           "concerned": {"exporter": "DEU", "discovery": "MLI"}}
ITEM = {"category": "small_arms", "hs_code": "930190", "quantity": "40", "make": "Acme",
        "model": "AR-1", "serial": "  SN-123 ", "year": "2011", "calibre": "7.62x39",
        "country_of_manufacture": "DEU", "marking_condition": "erased", "flags": ["modular"]}


@pytest.fixture
def people(exchange: Exchange) -> dict:
    return register_states(exchange.directory, roles=("analyst", "auditor"))


def count(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


def test_analyst_logs_a_case_with_an_item(exchange: Exchange, people: dict) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    item_id = exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    view = exchange.cases.view(fra, case_id)
    assert view.title == SUMMARY["title"]
    assert view.summary["concerned"] == {"exporter": "DEU", "discovery": "MLI"}
    assert view.items[item_id]["serial"] == "SN-123"
    assert view.items[item_id]["quantity"] == 40
    assert (view.owner, view.status, view.tier, view.version) == ("FRA", "suspected",
                                                                  "national", 2)


def test_national_case_is_invisible_to_other_states_and_secretariat(
        exchange: Exchange, people: dict) -> None:
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    for who in ("DEU", "secretariat"):
        with pytest.raises(NotFound):
            exchange.cases.view(people[who], case_id)
    with pytest.raises(NotFound):
        exchange.cases.history(people["DEU"], case_id)


def test_bilateral_share_opens_the_whole_case_to_named_states(exchange: Exchange,
                                                             people: dict) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    assert exchange.cases.share(fra, case_id, 2, "bilateral", ["deu"]) == ["DEU"]
    view = exchange.cases.view(people["DEU"], case_id)
    assert view.title == SUMMARY["title"] and len(view.items) == 1
    assert view.recipients == ["DEU", "FRA"] and view.tier == "bilateral"
    with pytest.raises(NotFound):
        exchange.cases.view(people["MLI"], case_id)
    # A recipient reads but does not change.
    with pytest.raises(Forbidden):
        exchange.cases.add_part(people["DEU"], case_id, 3, "note", {"text": "ours"})


def test_portal_share_reaches_every_state_party_but_not_the_secretariat(
        exchange: Exchange, people: dict) -> None:
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.share(people["FRA"], case_id, 1, "portal")
    for code in ("DEU", "MLI"):
        assert exchange.cases.view(people[code], case_id).title == SUMMARY["title"]
    with pytest.raises(NotFound):
        exchange.cases.view(people["secretariat"], case_id)


def test_removed_state_opens_events_before_rotation_and_none_after(exchange: Exchange,
                                                                 people: dict) -> None:
    fra, deu = people["FRA"], people["DEU"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    exchange.cases.share(fra, case_id, 1, "bilateral", ["DEU", "MLI"])
    exchange.cases.unshare(fra, case_id, 2, ["DEU"])
    exchange.cases.add_part(fra, case_id, 3, "note", {"text": "secret after rotation"})

    with pytest.raises(NotFound):
        exchange.cases.view(deu, case_id)
    # From the attacker's side: DEU keeps its old wrapped key and tries every event body.
    with exchange.ledger.transaction() as session:
        held = exchange.keystore.wrapped_keys(session, str(case_id), "DEU")
    assert list(held) == [1]
    old_key = unwrap_case_key(held[1], case_id=str(case_id), recipient="DEU",
                              keyring=deu.keyring)
    events = list(exchange.ledger.events.get(case_id))
    from cases.kernel.sealing import body_context
    opened = exchange.ledger.events.get(case_id)
    first = next(iter(opened))
    assert old_key.open(first.body_bytes(), body_context(case_id, 1, type(first)))
    note = events[-1]
    assert note.key_version == 2
    with pytest.raises(CryptoError):
        old_key.open(note.body_bytes(), body_context(case_id, note.originator_version,
                                                     type(note)))
    # MLI, still a reader, sees the note.
    assert exchange.cases.view(people["MLI"], case_id).notes[0]["text"] == (
        "secret after rotation")


def test_status_lifecycle_and_illegal_transition(exchange: Exchange, people: dict) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    exchange.cases.change_status(fra, case_id, 1, "under_investigation", "trace sent")
    exchange.cases.change_status(fra, case_id, 2, "confirmed")
    exchange.cases.change_status(fra, case_id, 3, "closed")
    exchange.cases.change_status(fra, case_id, 4, "under_investigation", "reopened")
    before = count(exchange)
    with pytest.raises(Conflict):
        exchange.cases.change_status(fra, case_id, 5, "suspected")
    assert count(exchange) == before
    view = exchange.cases.view(fra, case_id)
    assert [c["status"] for c in view.status_changes] == [
        "under_investigation", "confirmed", "closed", "under_investigation"]
    assert view.status_changes[0]["reason"] == "trace sent"


def test_a_stale_share_is_refused_a_stale_note_is_added(exchange: Exchange,
                                                         people: dict) -> None:
    """Sharing is checked against the whole case; a new part collides with nothing."""
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    exchange.cases.add_part(fra, case_id, 1, "note", {"text": "first"})
    before = count(exchange)
    with pytest.raises(Conflict):
        exchange.cases.share(fra, case_id, 1, "bilateral", ["DEU"])
    assert count(exchange) == before
    exchange.cases.add_part(fra, case_id, 1, "note", {"text": "written on version 1"})
    assert count(exchange) == before + 1


@pytest.mark.parametrize(("kind", "data", "field"), [
    ("item", dict(ITEM, category="tanks"), "category"),
    ("item", dict(ITEM, hs_code="93A1"), "hs_code"),
    ("item", dict(ITEM, quantity="0"), "quantity"),
    ("item", dict(ITEM, year="1700"), "year"),
    ("item", dict(ITEM, country_of_manufacture="XXX"), "country_of_manufacture"),
    ("item", dict(ITEM, flags=["plastic"]), "flags"),
    ("item", dict(ITEM, quantity="2", serial="A-1\nA-2\nA-3"), "serial"),
    ("item", dict(ITEM, serial="A-1\n" + "9" * 101), "serial"),
    ("actor", {"role": "broker", "name": ""}, "name"),
    ("actor", {"role": "wizard", "name": "X"}, "role"),
    ("leg", {"origin": "DEU", "destination": "ZZZ"}, "destination"),
    ("leg", {"origin": "DEU", "destination": "MLI", "date": "2999-01-01"}, "date"),
    ("note", {"text": "  "}, "text"),
])
def test_bad_part_is_refused_naming_the_field(exchange: Exchange, people: dict, kind, data,
                                              field) -> None:
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    before = count(exchange)
    with pytest.raises(InvalidInput) as refused:
        exchange.cases.add_part(people["FRA"], case_id, 1, kind, data)
    assert refused.value.field == field
    assert count(exchange) == before


def test_history_shows_content_to_readers_and_headers_to_other_auditors(
        exchange: Exchange, people: dict) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    mine = exchange.cases.history(fra, case_id)
    assert [h.event for h in mine] == ["Opened", "PartAdded"]
    assert mine[0].user == "fra.analyst" and mine[0].content["title"] == SUMMARY["title"]
    theirs = exchange.cases.history(people["DEU.auditor"], case_id)
    assert [h.content for h in theirs] == [None, None]
    # Not even the kind of part or who acted (issue 25 item 7): only what verification needs.
    assert "kind" not in theirs[1].clear and {h.user for h in theirs} == {""}
    assert set(theirs[1].clear) <= {"signing_key_version", "key_version", "prev_hash"}
    assert SUMMARY["title"] not in repr(theirs)


def test_case_index_lists_per_state_with_filters(exchange: Exchange, people: dict) -> None:
    fra = people["FRA"]
    first = exchange.cases.open_case(fra, SUMMARY)
    second = exchange.cases.open_case(fra, dict(SUMMARY, title="Second"))
    exchange.cases.share(fra, second, 1, "bilateral", ["DEU"])
    exchange.cases.change_status(fra, first, 1, "under_investigation")
    exchange.follow()
    view = exchange.case_index.view

    rows, total = view.list_for("FRA", CaseFilter())
    assert total == 2
    rows, total = view.list_for("DEU", CaseFilter())
    assert [r.case_id for r in rows] == [str(second)]
    assert exchange.cases.titles(people["DEU"], rows) == {str(second): "Second"}
    assert exchange.cases.titles(people["MLI"], rows) == {str(second): None}
    rows, _ = view.list_for("FRA", CaseFilter(status="under_investigation"))
    assert [r.case_id for r in rows] == [str(first)]
    rows, _ = view.list_for("FRA", CaseFilter(tier="bilateral"))
    assert [r.case_id for r in rows] == [str(second)]


def test_the_case_page_reads_the_case_and_its_history_as_view_and_history_do(
        exchange: Exchange, people: dict) -> None:
    fra, deu = people["FRA"], people["DEU"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    exchange.cases.share(fra, case_id, 2, "bilateral", ["DEU"])
    exchange.cases.unshare(fra, case_id, 3, ["DEU"])
    exchange.cases.share(fra, case_id, 4, "bilateral", ["DEU"])
    exchange.cases.add_part(fra, case_id, 5, "note", {"text": "Seen again"})
    for viewer in (fra, deu):
        assert exchange.cases.view_with_history(viewer, case_id) == (
            exchange.cases.view(viewer, case_id), exchange.cases.history(viewer, case_id))
    with pytest.raises(NotFound):
        exchange.cases.view_with_history(people["MLI"], case_id)
    with pytest.raises(NotFound):  # an auditor of another state reads headers only elsewhere
        exchange.cases.view_with_history(people["MLI.auditor"], case_id)


def test_a_page_of_titles_opens_only_what_each_state_holds_a_key_for(
        exchange: Exchange, people: dict) -> None:
    """One keystore read serves the page; each title still needs the viewer's own key of the
    version it was sealed under (a state removed before a revision opens none of it)."""
    fra, deu = people["FRA"], people["DEU"]
    national = exchange.cases.open_case(fra, dict(SUMMARY, title="National"))
    shared = exchange.cases.open_case(fra, dict(SUMMARY, title="Shared"))
    exchange.cases.share(fra, shared, 1, "bilateral", ["DEU"])
    removed = exchange.cases.open_case(fra, dict(SUMMARY, title="Before removal"))
    exchange.cases.share(fra, removed, 1, "bilateral", ["DEU"])
    exchange.cases.unshare(fra, removed, 2, ["DEU"])
    exchange.cases.revise_summary(fra, removed, 3, dict(SUMMARY, title="After removal"))
    exchange.follow()
    rows, _ = exchange.case_index.view.list_for("FRA", CaseFilter())

    assert exchange.cases.titles(fra, rows) == {
        str(national): "National", str(shared): "Shared", str(removed): "After removal"}
    assert exchange.cases.titles(deu, rows) == {
        str(national): None, str(shared): "Shared", str(removed): None}
    assert exchange.cases.titles(people["MLI"], rows) == dict.fromkeys(
        (str(national), str(shared), str(removed)))
    assert exchange.cases.titles(deu, []) == {}


def test_user_names_are_kept_once_found_and_an_unknown_id_is_looked_up_again(
        exchange: Exchange, people: dict) -> None:
    newcomer = str(user_id("fra.newcomer"))
    assert exchange.cases.usernames()(newcomer) == newcomer  # not a user yet
    exchange.directory.add_user(people["FRA.admin"], "fra.newcomer", PASSWORD, ["reviewer"])
    assert exchange.cases.usernames()(newcomer) == "fra.newcomer"
    assert exchange.cases.usernames()(people["FRA"].actor.user) == "fra.analyst"


def test_every_filtered_page_equals_the_readable_cases_sorted(
        exchange: Exchange, people: dict) -> None:
    """Pages and counts come from the reader rows, which repeat each case's listed facts; they
    must equal filtering and sorting the cases themselves, after shares, unshares and status
    changes moved those facts."""

    varied_cases(exchange, people)
    exchange.follow()
    view = exchange.case_index.view
    cases = [_row(r) for r in view.dump()["case_index"]]
    middle = sorted(c.updated for c in cases)[len(cases) // 2]
    filters = [CaseFilter(), CaseFilter(status="under_investigation"), CaseFilter(owner="DEU"),
               CaseFilter(tier="bilateral"), CaseFilter(tier="national", owner="FRA"),
               CaseFilter(updated_from=middle), CaseFilter(status="suspected", updated_to=middle)]
    for state in ("FRA", "DEU", "MLI", "SEN"):
        for where in filters:
            expected = sorted((c for c in cases if _listed(c, state, where)),
                              key=lambda c: (c.updated, c.case_id), reverse=True)
            for offset, limit in ((0, 1), (0, 2), (3, 2), (5, 7), (0, 30), (30, 5)):
                rows, total = view.list_for(state, where, offset, limit)
                assert total == len(expected), (state, where)
                assert rows == expected[offset:offset + limit], (state, where, offset)
    # cases 0 and 20 were shared with MLI and then investigated; 0 was unshared since
    assert view.list_for("MLI", CaseFilter(status="under_investigation"))[1] == 1


def varied_cases(exchange: Exchange, people: dict) -> None:
    """24 cases of two owners, some shared with MLI, investigated, then unshared."""
    fra, deu = people["FRA"], people["DEU"]
    for number in range(24):
        owner = fra if number % 3 else deu
        case_id = exchange.cases.open_case(owner, dict(SUMMARY, title=f"Case {number}"))
        version = 1
        if number % 4 == 0:
            exchange.cases.share(owner, case_id, version, "bilateral", ["MLI"])
            version += 1
        if number % 5 == 0:
            exchange.cases.change_status(owner, case_id, version, "under_investigation")
            version += 1
        if number % 8 == 0:
            exchange.cases.unshare(owner, case_id, version, ["MLI"])


def test_a_store_from_before_the_case_counts_is_counted_once_from_its_reader_rows(
        exchange: Exchange, people: dict) -> None:
    varied_cases(exchange, people)
    exchange.follow()
    live = exchange.case_index.view.dump()
    assert {row[0] for row in live["case_counts"]} == {"FRA", "DEU", "MLI"}
    with exchange.ledger.recorder.datastore.engine.begin() as db:
        db.execute(text("DROP TABLE case_counts"))
    prepare_store(exchange.settings)
    reopened = open_exchange(exchange.settings)
    try:
        assert reopened.case_index.view.dump() == live
        assert reopened.case_index.view.list_for("DEU", CaseFilter(owner="DEU"))[1] == 8
    finally:
        reopened.close()


def _row(values: tuple) -> CaseRow:
    from projections.case_index import case_index
    row = dict(zip(case_index.columns.keys(), values, strict=True))
    row["recipients"] = [s for s in row["recipients"].split(",") if s]
    return CaseRow(**row)


def _listed(case: CaseRow, state: str, where: CaseFilter) -> bool:
    return (state in case.recipients
            and all(not getattr(where, f) or getattr(case, f) == getattr(where, f)
                    for f in ("status", "tier", "owner"))
            and (where.updated_from is None or case.updated >= where.updated_from)
            and (where.updated_to is None or case.updated <= where.updated_to))


def test_parts_are_revised_and_removed(exchange: Exchange, people: dict) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    item = exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    actor = exchange.cases.add_part(fra, case_id, 2, "actor", {"role": "broker", "name": "X"})
    leg = exchange.cases.add_part(fra, case_id, 3, "leg", {"origin": "DEU", "destination": "MLI"})
    exchange.cases.revise_part(fra, case_id, 4, "item", item, dict(ITEM, quantity="41"))
    exchange.cases.revise_part(fra, case_id, 5, "actor", actor, {"role": "carrier", "name": "Y"})
    exchange.cases.remove_part(fra, case_id, 6, "leg", leg)
    exchange.cases.revise_summary(fra, case_id, 7, dict(SUMMARY, title="Renamed"))
    view = exchange.cases.view(fra, case_id)
    assert view.items[item]["quantity"] == 41
    assert view.actors[actor] == {"role": "carrier", "name": "Y", "country": "", "notes": ""}
    assert view.legs == {} and view.title == "Renamed"
    before = count(exchange)
    with pytest.raises(NotFound):
        exchange.cases.remove_part(fra, case_id, 8, "leg", leg)
    with pytest.raises(InvalidInput):
        exchange.cases.remove_part(fra, case_id, 8, "gadget", leg)
    assert count(exchange) == before


def test_case_index_rebuilt_from_zero_equals_the_live_one(exchange: Exchange,
                                                          people: dict) -> None:
    from projections.case_index import CaseIndex, CaseIndexView
    from projections.follower import catch_up

    fra = people["FRA"]
    for n in range(3):
        case_id = exchange.cases.open_case(fra, dict(SUMMARY, title=f"case {n}"))
        exchange.cases.share(fra, case_id, 1, "bilateral", ["DEU", "MLI"])
        exchange.cases.unshare(fra, case_id, 2, ["MLI"])
    exchange.follow()
    live = exchange.case_index.view.dump()
    assert live["case_index"]

    exchange.case_index.view.drop()
    rebuilt_view = CaseIndexView(exchange.ledger.recorder.datastore,
                                 tracking_table_name="case_index_tracking")
    rebuilt_view.create_table()
    assert rebuilt_view.dump()["case_index"] == []
    catch_up(exchange.ledger, [CaseIndex(rebuilt_view)])
    assert rebuilt_view.dump() == live


def test_sharing_with_unknown_state_or_garbage_version_is_invalid_input(
        exchange: Exchange, people: dict) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    before = count(exchange)
    with pytest.raises(InvalidInput) as unknown:
        exchange.cases.share(fra, case_id, 1, "bilateral", ["ESP"])
    assert unknown.value.field == "states"
    with pytest.raises(InvalidInput) as garbage:
        exchange.cases.add_part(fra, case_id, "one", "note", {"text": "x"})
    assert garbage.value.field == "expected_version"
    assert count(exchange) == before


def test_the_forms_to_change_and_administer_a_case_are_refused_by_the_same_rules(
        exchange: Exchange, people: dict) -> None:
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU"])
    cases = exchange.cases
    assert cases.view_to_change(people["FRA"], case_id).id == str(case_id)
    assert cases.view_to_trace(people["FRA"], case_id).id == str(case_id)
    assert cases.view_to_administer(people["FRA.admin"], case_id).id == str(case_id)
    with pytest.raises(Forbidden, match="Only analysts of the owner state"):
        cases.view_to_change(people["DEU"], case_id)  # reads it, does not own it
    with pytest.raises(Forbidden, match="send trace requests"):
        cases.view_to_trace(people["DEU"], case_id)
    with pytest.raises(Forbidden, match="Only state admins"):
        cases.view_to_administer(people["FRA"], case_id)  # an analyst, not an admin
    with pytest.raises(NotFound):
        cases.view_to_change(people["MLI"], case_id)  # cannot know that it exists


def test_an_item_without_a_marking_condition_keeps_it_unknown(
        exchange: Exchange, people: dict) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    exchange.cases.add_part(fra, case_id, 1, "item", {"category": "small_arms", "quantity": "3"})
    item = next(iter(exchange.cases.view(fra, case_id).items.values()))
    assert item["marking_condition"] == "" and item["flags"] == []


def test_an_item_line_carries_its_serial_numbers_one_per_line(
        exchange: Exchange, people: dict) -> None:
    """Issue 23 item 1: a line of 324 rifles carries its serials; blanks and repeats go."""
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    pasted = "\r\n".join(["KR-0001", "", "  KR-0002 ", "KR-0001", *(f"KR-1{n:03}" for n in
                                                                    range(300))])
    exchange.cases.add_part(fra, case_id, 1, "item", dict(ITEM, quantity="324", serial=pasted))
    exchange.cases.add_part(fra, case_id, 2, "item", dict(ITEM, serial=["B-1", "B-2"]))
    # Only typed line breaks part serials: U+001E is a character of the serial (CI found
    # str.splitlines cutting there).
    exchange.cases.add_part(fra, case_id, 3, "item", dict(ITEM, quantity="2",
                                                          serial="C\x1e1\rC\u20282"))
    lines = sorted(serials(i) for i in exchange.cases.view(fra, case_id).items.values())
    assert lines == [["B-1", "B-2"], ["C\x1e1", "C\u20282"],
                     ["KR-0001", "KR-0002", *(f"KR-1{n:03}" for n in range(300))]]


def test_two_analysts_editing_different_parts_both_succeed_the_same_part_collides(
        exchange: Exchange, people: dict) -> None:
    """Issue 23 item 3: the aggregate's rule, not a blanket version check."""
    fra = people["FRA"]
    cases = exchange.cases
    case_id = cases.open_case(fra, SUMMARY)
    first = cases.add_part(fra, case_id, 1, "item", ITEM)
    second = cases.add_part(fra, case_id, 2, "item", ITEM)
    opened_at = 3  # both analysts opened the case at version 3
    cases.revise_part(fra, case_id, opened_at, "item", first, {**ITEM, "serial": "A-1"})
    cases.revise_part(fra, case_id, opened_at, "item", second, {**ITEM, "serial": "B-2"})
    cases.add_part(fra, case_id, opened_at, "note", {"text": "Seen at the port."})
    cases.revise_summary(fra, case_id, opened_at, {**SUMMARY, "title": "Rifles (revised)"})
    before = count(exchange)
    with pytest.raises(Conflict):
        cases.revise_part(fra, case_id, opened_at, "item", first, {**ITEM, "serial": "C-3"})
    with pytest.raises(Conflict):
        cases.revise_summary(fra, case_id, opened_at, SUMMARY)
    with pytest.raises(Conflict):  # a version the case never had
        cases.revise_part(fra, case_id, 99, "item", first, ITEM)
    assert count(exchange) == before
    view = cases.view(fra, case_id)
    assert [view.items[first]["serial"], view.items[second]["serial"]] == ["A-1", "B-2"]
    assert view.title == "Rifles (revised)" and view.version == 7


def test_a_case_from_a_snapshot_without_part_versions_checks_older_changes_whole(
        exchange: Exchange, people: dict) -> None:
    """A snapshot taken before parts were tracked has no `touched`: changes prepared on
    versions before the first event after it are checked against the whole case."""
    from cases.casework.case import Case

    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    item = exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    case: Case = exchange.ledger.repository.get(case_id)
    del case.__dict__["touched"]  # as loaded from such a snapshot, at version 2
    assert case.changed_since(1, item) and not case.changed_since(2, item)
    case.add_part(fra.actor, "note", "n1", b"")  # version 3 starts the tracking at 2
    assert case.touched == {"*": 2, "n1": 3}
    assert case.changed_since(1, item)  # before tracking: whole-case check
    assert not case.changed_since(2, item)  # since tracking: only the note changed
    assert case.changed_since(2, "n1")
