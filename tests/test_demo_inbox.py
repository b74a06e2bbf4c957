"""The demo starts with an inbox for every demo role, and its mails, sent to every demo user
through a real SMTP server, carry none of the demo's case content."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.demo import ACTORS, DEMO_PASSWORD, MAKERS, PLACES, seed
from infra.mailer import Mailer
from infra.settings import MailSettings
from infra.wiring import Exchange, open_exchange, prepare_store
from projections.case_index import CaseFilter
from projections.inbox_view import Moment
from tests.conftest import make_settings
from tests.smtp import smtp_server


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = make_settings(tmp_path_factory.mktemp("demo-inbox"))
    prepare_store(settings)
    exchange = open_exchange(settings)
    logins = seed(exchange)
    exchange.follow()
    yield {"exchange": exchange, "logins": logins}
    exchange.close()


def inbox_of(exchange: Exchange, username: str) -> list[Any]:
    viewer = exchange.directory.authenticate(username, DEMO_PASSWORD)
    moment = Moment(datetime.now(UTC), exchange.settings.zone, exchange.checkpoints.latest())
    return exchange.inbox.view.items_for(viewer, moment, limit=500)[0]


def test_every_demo_role_starts_with_inbox_items(demo: dict[str, Any]) -> None:
    exchange = demo["exchange"]
    by_role: dict[str, set[str]] = {}
    for login in demo["logins"]:
        kinds = {item.kind for item in inbox_of(exchange, login.username)}
        for role in login.roles.split(", "):
            by_role.setdefault(role, set()).update(kinds)
    assert set(by_role) == {"secretariat", "state_admin", "analyst", "reviewer", "auditor"}
    assert all(by_role.values()), by_role
    assert "state_registered" in by_role["secretariat"]
    assert "user_added" in by_role["state_admin"]
    assert {"case_shared", "trace_received", "trace_due_soon"} <= by_role["analyst"]
    assert "checkpoint_to_cosign" in by_role["auditor"]  # states that did not cosign yet


def demo_content(exchange: Exchange) -> set[str]:
    """Every title and item text of the demo's cases, and what its trace requests and
    meeting said, as their owners read them."""
    found: set[str] = set(MAKERS) | {name for _, name in ACTORS} | set(PLACES)
    for code in ("FRA", "DEU", "MEX", "NGA", "SEN", "PER", "UKR"):
        analyst = exchange.directory.authenticate(f"{code.lower()}.analyst", DEMO_PASSWORD)
        rows, _ = exchange.case_index.view.list_for(code, CaseFilter(), 0, 100)
        for row in rows:
            if row.owner != code:
                continue
            case = exchange.cases.view(analyst, row.case_id)
            found |= {case.title, case.summary["narrative"]}
            for item in case.items.values():
                found |= {item["serial"], item["model"], item["hs_code"]}
        board = exchange.trace_board.view.board_for(code, datetime.now(UTC))
        for row in board.outgoing:
            trace = exchange.traces.view(analyst, row.trace_id)
            found.add(trace.questions)
            if trace.answer:
                found |= {trace.answer["text"], trace.answer["licence"]}
    found |= {"Participants agreed that the markings point to a re-export.",
              "Re-exports through transit hubs recur in several cases.",
              "Photos of the markings, please.", "Photos are in the national file."}
    return {text for text in found if text}


def test_mails_to_every_demo_user_carry_no_case_content(demo: dict[str, Any],
                                                        tmp_path: Path) -> None:
    exchange: Exchange = demo["exchange"]
    for login in demo["logins"]:
        viewer = exchange.directory.authenticate(login.username, DEMO_PASSWORD)
        exchange.mail_addresses.confirm(exchange.mail_addresses.request(
            viewer, f"{login.username}@mail.example"))
    content = demo_content(exchange)
    assert len(content) > 100
    with smtp_server(tmp_path) as server:
        exchange.settings = replace(exchange.settings, mail=MailSettings(
            smtp_url=server.url, sender="divex@divex.example.org",
            base_url="https://divex.example.org"))
        mailer = Mailer(exchange, ssl_context=server.client_context)
        while mailer.run_once().counts["sent"]:
            pass
        mails = server.inbox.bodies()
    assert len(mails) > len(demo["logins"])
    assert {m["To"] for m in server.inbox.messages} >= {
        f"{login.username}@mail.example" for login in demo["logins"]}
    leaks = [(text, mail[:80]) for mail in mails for text in content if text in mail]
    assert leaks == []
