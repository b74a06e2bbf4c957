"""Error pages tell a person what happened and nothing more: no traceback, no echo of the
request, no other state's data."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.exceptions import Forbidden

from infra.wiring import Exchange
from tests.web.conftest import SUMMARY, Browser
from web import create_app

PROBE = "<script>alert('probe')</script>"
SECRET = "MLI-ONLY narrative: 40 rifles at grid 31N"


@pytest.fixture
def production_app(exchange: Exchange) -> Flask:
    """Not TESTING: an unexpected exception becomes the 500 page, as in production. The
    failing routes exist only on this test app."""
    app = create_app(exchange, {"WTF_CSRF_ENABLED": True})

    @app.get("/test-only/crash")
    def crash() -> str:
        raise RuntimeError(f"database said: {SECRET}")

    @app.get("/test-only/forbidden")
    def forbidden() -> str:
        raise Forbidden(f"not for you: {SECRET}")

    return app


def assert_tells_nothing(text: str) -> None:
    for leak in ("Traceback", "RuntimeError", 'File "', ".py", SECRET, "probe",
                 "werkzeug", "sqlalchemy"):
        assert leak not in text, leak


def test_an_unexpected_exception_shows_a_plain_500_page(production_app: Flask) -> None:
    response = production_app.test_client().get("/test-only/crash")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert_tells_nothing(response.text)


def test_a_403_does_not_show_the_reason_given_inside_the_server(production_app: Flask) -> None:
    response = production_app.test_client().get("/test-only/forbidden")
    assert response.status_code == 403 and "Not allowed" in response.text
    assert_tells_nothing(response.text)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", f"/cases/{PROBE}", 404),
    ("GET", f"/no/such/page?q={PROBE}", 404),
    ("POST", f"/cases/?q={PROBE}", 405),
    ("POST", "/login", 400),  # no CSRF token
])
def test_error_pages_do_not_echo_the_request(production_app: Flask, method: str, path: str,
                                             status: int) -> None:
    response = production_app.test_client().open(path, method=method,
                                                  data={"username": PROBE, "note": PROBE})
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert_tells_nothing(response.text)


def test_a_malformed_form_is_a_plain_400(analyst: Browser) -> None:
    # a list where one value is expected, and a token field sent twice
    response = analyst.client.post("/cases/new", data={"csrf_token": ["a", "b"],
                                                       "title": PROBE})
    assert response.status_code == 400
    assert_tells_nothing(response.text)


def test_a_case_of_another_state_is_a_404_without_its_content(
        analyst: Browser, exchange: Exchange, people: dict) -> None:
    case_id = exchange.cases.open_case(people["MLI"], dict(SUMMARY, narrative=SECRET))
    response = analyst.get(f"/cases/{case_id}")
    assert response.status_code == 404
    assert SECRET not in response.text and SUMMARY["title"] not in response.text
