"""The notification mail settings: an address counts once the link mailed to it is opened;
choices per kind; bad input refused next to its field with nothing written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from cases.kernel.viewer import Viewer
from infra.mailer import Mailer
from infra.settings import MailSettings
from infra.wiring import Exchange
from projections.outbox import mail_messages
from tests.smtp import SmtpServer, smtp_server
from tests.web.conftest import Browser, error_next_to

BASE = "https://divex.example.org"


@pytest.fixture
def server(tmp_path: Path, exchange: Exchange) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path) as running:
        exchange.settings = replace(exchange.settings, mail=MailSettings(
            smtp_url=running.url, sender="divex@divex.example.org", base_url=BASE))
        yield running


def queued(exchange: Exchange) -> int:
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        return db.execute(select(func.count()).select_from(mail_messages)).scalar()


def test_an_address_counts_once_the_mailed_link_is_opened(
        app: Flask, exchange: Exchange, people: dict[str, Viewer], analyst: Browser,
        server: SmtpServer) -> None:
    response = analyst.post("/account/mail/address", {"address": " fra@mail.example "})
    assert response.status_code == 302
    page = analyst.get("/account/mail").text
    assert "fra@mail.example" in page and "waiting for you to open the link" in page
    Mailer(exchange, ssl_context=server.client_context).run_once()
    [mail] = server.inbox.messages
    assert mail["To"] == "fra@mail.example"
    link = re.search(rf"{BASE}(/account/mail/confirm/\S+)", server.inbox.bodies()[0])
    assert link, server.inbox.bodies()[0]
    assert exchange.mail_addresses.recipients([people["FRA"].user_id]) == {}
    confirmed = app.test_client().get(link.group(1))  # no sign-in needed: the link is proof
    assert confirmed.status_code == 200 and "Address confirmed" in confirmed.text
    assert exchange.mail_addresses.address_of(people["FRA"]).confirmed
    assert app.test_client().get(link.group(1)).status_code == 404  # once only
    # The link's secret is not kept once the mail is sent.
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        assert db.execute(select(mail_messages.c.body)).scalars().all() == [""]


@pytest.mark.parametrize("address", ["", "not an address", "a@b", "x@" + "y" * 260 + ".org",
                                     "two@one.org, three@two.org"])
def test_a_bad_address_is_refused_next_to_it_and_nothing_is_written(
        exchange: Exchange, people: dict[str, Viewer], analyst: Browser, address: str) -> None:
    response = analyst.post("/account/mail/address", {"address": address})
    assert response.status_code == 422
    assert error_next_to(response, "address")
    assert exchange.mail_addresses.address_of(people["FRA"]) is None
    assert queued(exchange) == 0


def test_choices_per_kind_are_saved_and_a_bad_one_refused(
        exchange: Exchange, people: dict[str, Viewer], analyst: Browser) -> None:
    response = analyst.post("/account/mail/preferences", {"mode-case_shared": "daily",
                                                          "mode-trace_received": "never"})
    assert response.status_code == 302
    assert exchange.mail_addresses.modes_of(people["FRA"]) == {
        "case_shared": "daily", "trace_received": "never"}
    refused = analyst.post("/account/mail/preferences", {"mode-case_shared": "hourly",
                                                         "mode-trace_received": "daily"})
    assert refused.status_code == 422
    assert error_next_to(refused, "mode-case_shared")
    assert exchange.mail_addresses.modes_of(people["FRA"])["trace_received"] == "never"


def test_an_unknown_link_is_not_found(app: Flask) -> None:
    response = app.test_client().get("/account/mail/confirm/nope")
    assert response.status_code == 404 and "not valid or has expired" in response.text


def test_removing_the_address(exchange: Exchange, people: dict[str, Viewer],
                              analyst: Browser) -> None:
    exchange.mail_addresses.confirm(exchange.mail_addresses.request(people["FRA"],
                                                                    "fra@mail.example"))
    assert analyst.post("/account/mail/remove").status_code == 302
    assert exchange.mail_addresses.address_of(people["FRA"]) is None
