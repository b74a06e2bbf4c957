"""The contact-point registry pages: everyone reads, only a state admin updates its own."""

from __future__ import annotations

from flask import Flask

from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import Browser, error_next_to, events

POINT = {"name": "Bureau des exportations", "office": "SGDSN", "channel": "ncp@example.fr",
         "volunteers_to_assist": "yes"}


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username, PASSWORD).status_code == 302
    return browser


def test_state_admin_sets_the_contact_point_and_everyone_reads_it(app: Flask, people: dict,
                                                                  exchange: Exchange) -> None:
    admin = signed_in(app, "fra.admin")
    response = admin.post("/directory/contact-point", POINT)
    assert response.status_code == 302
    page = signed_in(app, "mli.analyst").get("/directory/").text
    assert "ncp@example.fr" in page and "Bureau des exportations" in page
    assert exchange.directory.state("FRA").contact_point["volunteers_to_assist"] is True


def test_states_without_a_confirmed_contact_point_show_as_stale(app: Flask,
                                                               people: dict) -> None:
    page = signed_in(app, "deu.analyst").get("/directory/").text
    assert page.count('class="badge stale"') == 4  # FRA, DEU, MLI and the secretariat


def test_state_admin_confirms_the_contact_point(app: Flask, people: dict,
                                                exchange: Exchange) -> None:
    admin = signed_in(app, "fra.admin")
    admin.post("/directory/contact-point", POINT)
    before = exchange.directory.state("FRA").contact_point["confirmed_on"]
    assert admin.post("/directory/contact-point/confirm").status_code == 302
    assert exchange.directory.state("FRA").contact_point["confirmed_on"] > before


def test_missing_channel_is_refused_next_to_the_field(app: Flask, people: dict,
                                                      exchange: Exchange) -> None:
    admin = signed_in(app, "fra.admin")
    before = events(exchange)
    response = admin.post("/directory/contact-point", dict(POINT, channel=" "))
    assert response.status_code == 422
    assert "channel" in error_next_to(response, "channel")
    assert events(exchange) == before


def test_an_analyst_cannot_change_the_contact_point(app: Flask, people: dict,
                                                    exchange: Exchange) -> None:
    analyst = signed_in(app, "fra.analyst")
    before = events(exchange)
    assert analyst.get("/directory/contact-point").status_code == 403
    assert analyst.post("/directory/contact-point", POINT).status_code == 403
    assert analyst.post("/directory/contact-point/confirm").status_code == 403
    assert events(exchange) == before


def test_a_forged_request_without_csrf_token_stores_nothing(app: Flask, people: dict,
                                                            exchange: Exchange) -> None:
    admin = signed_in(app, "fra.admin")
    before = events(exchange)
    assert admin.post("/directory/contact-point", POINT, csrf=False).status_code == 400
    assert events(exchange) == before


def test_refusal_is_shown_in_french(app: Flask, people: dict) -> None:
    admin = signed_in(app, "fra.admin")
    admin.post("/language", {"lang": "fr"})
    response = admin.post("/directory/contact-point", dict(POINT, channel=""))
    assert error_next_to(response, "channel") == "Le point de contact doit avoir un canal."
