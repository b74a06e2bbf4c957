"""API bulk import (issue 23 item 10): a dry run lists every problem; an import is one batch."""

from __future__ import annotations

import pytest
from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.test_bulk_import import ALONE, CARTRIDGES, RIFLES, table
from tests.web.conftest import events
from tests.web.test_api import Api, token_for


@pytest.fixture
def api(app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> Api:
    return Api(app.test_client(), token_for(exchange, people["FRA"]))


def test_a_dry_run_lists_every_problem_and_an_import_stores_all_or_nothing(
        api: Api, app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    before = events(exchange)
    bad = table(dict(RIFLES, quantity="2"), dict(ALONE, category="tanks"))
    report = api.call("POST", "/cases/import", json={"csv": bad})
    assert report.status_code == 200 and report.json["ok"] is False
    assert [(p["row"], p["column"]) for p in report.json["problems"]] == [
        (2, "serial"), (3, "category")]
    refused = api.call("POST", "/cases/import", json={"csv": bad, "dry_run": False})
    assert refused.status_code == 422 and "2 problem(s)" in refused.json["message"]
    assert refused.json["field"] == "csv" and events(exchange) == before
    good = table(RIFLES, CARTRIDGES, ALONE)
    done = api.call("POST", "/cases/import", json={"csv": good, "dry_run": False})
    assert done.status_code == 200 and done.json["ok"] and len(done.json["imported"]) == 2
    assert events(exchange) == before + 5
    first = f"/cases/{done.json['imported'][0]}"
    assert api.call("GET", first).json["summary"]["title"] == "Rifles at Kidira"
    deu = Api(app.test_client(), token_for(exchange, people["DEU"]))
    assert deu.call("GET", first).status_code == 404
    reviewer = Api(app.test_client(), token_for(exchange, people["FRA.reviewer"]))
    before = events(exchange)
    refused = reviewer.call("POST", "/cases/import", json={"csv": good, "dry_run": False})
    assert refused.status_code == 403 and events(exchange) == before
