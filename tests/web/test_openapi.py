"""The OpenAPI document is true: it lists exactly the API's routes and methods, it is a valid
OpenAPI 3.1 document, and it needs no sign-in (it holds no data)."""

from __future__ import annotations

import re

import schemathesis
from flask import Flask


def documented(app: Flask) -> set[tuple[str, str]]:
    document = app.test_client().get("/api/v1/openapi.json").json
    return {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}


def routed(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        found |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_every_api_route_is_documented_and_nothing_else(app: Flask) -> None:
    assert routed(app) == documented(app)
    assert ("GET", "/cases") in routed(app)


def test_the_document_is_valid_openapi_3_1(app: Flask) -> None:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(response.json)
    assert len(list(schema.get_all_operations())) == len(documented(app))
    for ref in re.findall(r'"\$ref": ?"#/components/schemas/(\w+)"', response.get_data(True)):
        assert ref in response.json["components"]["schemas"], ref


def test_content_bodies_list_the_vocabularies_of_the_domain(app: Flask) -> None:
    from cases.casework.content import ITEM_CATEGORIES, MARKING_CONDITIONS, TRANSPORT_MODES

    schemas = app.test_client().get("/api/v1/openapi.json").json["components"]["schemas"]
    item = schemas["ItemIn"]["properties"]
    assert item["category"]["enum"] == list(ITEM_CATEGORIES)
    assert item["marking_condition"]["enum"] == ["", *MARKING_CONDITIONS]  # "": unknown
    assert schemas["LegIn"]["properties"]["mode"]["enum"] == ["", *TRANSPORT_MODES]
    assert set(schemas["ItemIn"]["required"]) == {"expected_version", "category", "quantity"}
