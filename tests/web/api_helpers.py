"""Calling the JSON API in tests as a user with a token, every answer checked against the
OpenAPI document: its status must be one the operation declares, and its body must validate
against the declared schema (with the document's components)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.conftest import PASSWORD

PREFIX = "/api/v1"


def operation_of(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The operation a request path falls on; literal segments win over parameters."""
    found = []
    for template, operations in document["paths"].items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and method.lower() in operations:
            found.append((template.count("{"), operations[method.lower()]))
    assert found, f"no operation {method} {path} in the OpenAPI document"
    return min(found, key=lambda f: f[0])[1]


def check_against_document(document: dict[str, Any], method: str, path: str,
                           response: TestResponse) -> None:
    operation = operation_of(document, method, path)
    declared = operation["responses"].get(str(response.status_code))
    assert declared, (f"{method} {path} answered {response.status_code}, which "
                      f"{operation['operationId']} does not declare")
    content = declared.get("content")
    if content is None:
        assert not response.data
        return
    schema = {"$ref": content["application/json"]["schema"]["$ref"],
              "components": document["components"]}
    Draft202012Validator(schema).validate(response.get_json())


class Api:
    """A user's API client: a token issued with their password, and checked answers."""

    def __init__(self, app: Flask, exchange: Exchange, viewer: Viewer) -> None:
        text, _info = exchange.api_tokens.issue(viewer, PASSWORD, "tests", [], 30)
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {text}"}
        self.document = self.client.get(f"{PREFIX}/openapi.json").get_json()

    def call(self, method: str, path: str, expect: int, body: Any = None,
             query: dict[str, Any] | None = None) -> Any:
        """The JSON answer (None for 204), after checking status, declaration and schema."""
        response = self.client.open(f"{PREFIX}{path}", method=method, json=body,
                                    query_string=query, headers=self.headers)
        assert response.status_code == expect, response.get_data(as_text=True)
        check_against_document(self.document, method, path, response)
        self.last_text = response.get_data(as_text=True)
        return response.get_json(silent=True)

    def get(self, path: str, expect: int = 200, **query: Any) -> Any:
        return self.call("GET", path, expect, query=query)

    def post(self, path: str, body: Any = None, expect: int = 200) -> Any:
        return self.call("POST", path, expect, body)

    def put(self, path: str, body: Any = None, expect: int = 200) -> Any:
        return self.call("PUT", path, expect, body)

    def delete(self, path: str, expect: int = 204) -> Any:
        return self.call("DELETE", path, expect)
