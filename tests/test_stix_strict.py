"""The demo's STIX exports, as each demo state downloads them, pass the OASIS validator in
strict mode with no error and no warning, parse with stix2 without custom content, and each
divex object holds to the JSON Schema its extension definition names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import stix2
from stix2validator import ValidationOptions, validate_string

from cases.casework.stix import extension_schemas, stix_bundle
from infra.demo import DEMO_PASSWORD, seed
from infra.wiring import Exchange, open_exchange, prepare_store
from projections.case_index import CaseFilter
from tests.conftest import make_settings

STATES = ("FRA", "DEU", "MEX", "NGA", "SEN", "PER", "UKR")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exchange]:
    settings = make_settings(tmp_path_factory.mktemp("demo-stix"))
    prepare_store(settings)
    exchange = open_exchange(settings)
    seed(exchange)
    exchange.follow()
    yield exchange
    exchange.close()


@pytest.fixture(scope="module")
def bundles(demo: Exchange) -> dict[str, str]:
    """Each demo state's export of every case it reads, as its analyst downloads it."""
    found = {}
    for state in STATES:
        viewer = demo.directory.authenticate(f"{state.lower()}.analyst", DEMO_PASSWORD)
        rows, _ = demo.case_index.view.list_for(state, CaseFilter(), limit=1000)
        found[state] = stix_bundle([demo.cases.view(viewer, row.case_id) for row in rows],
                                   state)
    return found


def objects_of(bundle: str) -> list[dict[str, Any]]:
    return json.loads(bundle)["objects"]


@pytest.mark.parametrize("state", STATES)
def test_the_demo_export_passes_the_strict_validator(bundles: dict[str, str],
                                                     state: str) -> None:
    result = validate_string(bundles[state], ValidationOptions(version="2.1", strict=True))
    assert [str(m) for m in (*result.errors, *result.warnings)] == []
    assert result.is_valid
    kinds = {o["type"] for o in objects_of(bundles[state])}
    assert {"report", "divex-item", "identity", "location", "marking-definition",
            "extension-definition"} <= kinds


@pytest.mark.parametrize("state", STATES)
def test_the_demo_export_parses_without_custom_content(bundles: dict[str, str],
                                                       state: str) -> None:
    bundle = stix2.parse(bundles[state], allow_custom=False)
    assert len(bundle.objects) == len(objects_of(bundles[state]))


def test_every_divex_object_holds_to_its_extension_schema(bundles: dict[str, str]) -> None:
    schemas = extension_schemas()
    checked: dict[str, int] = {}
    for bundle in bundles.values():
        for obj in objects_of(bundle):
            for ext_id, extension in obj.get("extensions", {}).items():
                if ext_id not in schemas:
                    continue  # TLP 2.0 markings: OASIS's extension
                whole = extension["extension_type"] == "new-sdo"
                jsonschema.validate(obj if whole else extension, schemas[ext_id],
                                    format_checker=jsonschema.FormatChecker())
                checked[obj["type"]] = checked.get(obj["type"], 0) + 1
    assert set(checked) == {"divex-item", "divex-route-leg", "report"}


def test_a_schema_refuses_what_the_extension_does_not_define(
        bundles: dict[str, str]) -> None:
    schemas = extension_schemas()
    item = next(o for o in objects_of(bundles["FRA"]) if o["type"] == "divex-item")
    schema = schemas[next(iter(item["extensions"]))]
    for wrong in ({"category": "toasters"}, {"quantity": 0}, {"serial": "SN-1"},
                  {"country_of_manufacture_ref": "FRA"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**item, **wrong}, schema)


def test_states_exporting_the_same_case_export_the_same_objects(
        bundles: dict[str, str]) -> None:
    seen: dict[str, dict[str, Any]] = {}
    shared_cases = 0
    for state, bundle in bundles.items():
        for obj in objects_of(bundle):
            if obj["id"] in seen:
                assert obj == seen[obj["id"]], (state, obj["id"])
                shared_cases += obj["type"] == "report"
            seen[obj["id"]] = obj
    assert shared_cases > 0  # the demo shares cases: some reports came twice or more


def test_the_extension_schemas_are_served_to_anyone(demo: Exchange) -> None:
    from web import create_app

    client = create_app(demo).test_client()
    for ext_id, schema in extension_schemas().items():
        answer = client.get(f"/stix/extensions/{ext_id}.json")
        assert answer.status_code == 200
        assert answer.mimetype == "application/schema+json"
        assert answer.get_json() == schema
    assert client.get("/stix/extensions/extension-definition--nothing.json").status_code == 404
