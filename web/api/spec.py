"""Each API operation declared once: its route, its input and output models, its OpenAPI entry.

`operation` registers the Flask route and records what the OpenAPI document says of it, so the
document is built from the same declarations that parse requests and shape responses.
Pydantic models give both the validation (with the field at fault) and the JSON Schema
(draft 2020-12, the dialect of OpenAPI 3.1). A few dozen lines here replace a framework such
as flask-openapi3, which would replace Flask's app and blueprint classes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from cases.casework.attachments import Upload
from cases.kernel.errors import InvalidInput

from .errors import ERROR_STATUSES, ApiError, BadRequest

_PARAM = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    operation_id: str
    area: str  # the name of the area's blueprint: the endpoint is "api.<area>.<operation_id>"
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    public: bool = False
    upload: str = ""  # a file field: the body may come as multipart/form-data with it
    binary: bool = False  # the answer is a file (the view's own response), not JSON
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return _PARAM.sub(lambda m: "{" + m.group(3) + "}", self.rule)


OPERATIONS: list[Operation] = []


def _path_params(rule: str) -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for converter, args, name in _PARAM.findall(rule):
        if converter == "uuid":
            schemas[name] = {"type": "string", "format": "uuid"}
        elif converter == "int":
            schemas[name] = {"type": "integer", "minimum": 0}
        elif converter == "any":
            schemas[name] = {"type": "string",
                             "enum": [a.strip() for a in args.split(",")]}
        else:
            schemas[name] = {"type": "string", "minLength": 1, "maxLength": 64,
                             "pattern": "^[^/]+$"}
    return schemas


def parse(model: type[BaseModel], data: Any) -> Any:
    """The model built from data, or InvalidInput naming the first field at fault."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or None
        # pydantic words the problem in English; it is passed on as it is.
        raise InvalidInput("%(problem)s.", field=where, problem=first["msg"]) from None


def _query_data(model: type[BaseModel]) -> dict[str, Any]:
    """Query arguments as the model expects them: lists where the field is a list."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        values = request.args.getlist(name)
        if not values:
            continue
        data[name] = values if getattr(info.annotation, "__origin__", None) is list \
            else values[-1]
    unknown = set(request.args) - set(model.model_fields)
    if unknown:
        first = sorted(unknown)[0]
        raise InvalidInput("Unknown query parameter: %(name)s.", field=first, name=first)
    return data


def operation(bp: Blueprint, method: str, rule: str, *, summary: str, tag: str,
              body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, status: int = 200,
              errors: tuple[int, ...] = (), public: bool = False, upload: str = "",
              binary: bool = False) -> Callable[..., Any]:
    """Registers ``view(viewer, **path_args, [body=…], [query=…], [upload=…])`` as an API
    operation.

    The view returns a `response` model instance, or None for 204, or (``binary``) the
    file's response. With ``upload``, the body may also come as multipart/form-data, the
    model's fields as form fields and the file in the field named so (``upload=`` an
    `Upload`, or None).
    """
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(method=method.upper(), rule=rule, operation_id=view.__name__, area=bp.name,
                       summary=summary, tag=tag, body=body, query=query, response=response,
                       status=status, errors=errors, public=public, upload=upload,
                       binary=binary, path_params=_path_params(rule))
        OPERATIONS.append(op)

        @wraps(view)
        def endpoint(**kwargs: Any) -> Response | tuple[Any, int]:
            if query is not None:
                kwargs["query"] = parse(query, _query_data(query))
            if upload:
                kwargs["upload"] = None
            if upload and request.mimetype == "multipart/form-data":
                file = request.files.get(upload)
                kwargs["upload"] = Upload(file.filename or upload, file.read()) \
                    if file is not None and file.filename else None
                kwargs["body"] = parse(body, request.form.to_dict())  # type: ignore[arg-type]
            elif body is not None:
                try:
                    data = request.get_json(silent=True)
                except RecursionError:  # json raises it past ~1000 levels; not a ValueError
                    raise BadRequest("The JSON body is nested too deeply.") from None
                if not isinstance(data, dict):
                    raise BadRequest("The body must be a JSON object "
                                     "(Content-Type: application/json).")
                kwargs["body"] = parse(body, data)
            result = view(None if public else g.api_viewer, **kwargs)
            if binary:
                return result  # type: ignore[no-any-return]
            if response is None:
                return Response(status=204)
            return jsonify(result.model_dump(mode="json")), status

        bp.add_url_rule(rule, view.__name__, endpoint, methods=[op.method])
        return view
    return decorate


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True, "schema": schema}
              for name, schema in op.path_params.items()]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, prop in schema["properties"].items():
            params.append({"name": name, "in": "query",
                           "required": name in schema.get("required", []),
                           "schema": prop, **({"explode": True} if prop.get("type") == "array"
                                              else {})})
    return params


def document(title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered operation."""
    models = {m for op in OPERATIONS for m in (op.body, op.response, op.query) if m}
    models.add(ApiError)
    _, defs = models_json_schema([(m, "validation") for m in sorted(models, key=str)],
                                 ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        responses: dict[str, Any] = {}
        if op.binary:
            responses[str(op.status)] = {"description": "The file.", "content": {
                "application/octet-stream": {"schema": {
                    "type": "string", "contentMediaType": "application/octet-stream"}}}}
        elif op.response is None:
            responses[str(op.status)] = {"description": "Done."}
        else:
            responses[str(op.status)] = {"description": "Done.", "content": {
                "application/json": {"schema": {
                    "$ref": f"#/components/schemas/{op.response.__name__}"}}}}
        statuses = (set(op.errors) | ({400, 422} if op.body or op.query else set())
                    | ({413} if op.body else set()))
        if not op.public:
            statuses |= {401, 429}
        for code in sorted(statuses):
            responses[str(code)] = {"description": ERROR_STATUSES[code], "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}
        entry: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary,
                                 "tags": [op.tag], "parameters": _parameters(op),
                                 "responses": responses}
        if op.body is not None:
            model = {"$ref": f"#/components/schemas/{op.body.__name__}"}
            entry["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": model}}}
            if op.upload:
                entry["requestBody"]["content"]["multipart/form-data"] = {"schema": {
                    "allOf": [model, {"type": "object", "properties": {op.upload: {
                        "type": "string", "contentMediaType": "application/octet-stream",
                        "description": "A file: a photo (JPEG, PNG, WebP), a PDF, plain "
                                       "text or CSV, its type read from its bytes"}}}]}}
        if op.public:
            entry["security"] = []
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer", "bearerFormat": "dvx_<id>.<secret>",
                "description": "An API token issued on the account page (Account → API "
                               "tokens)."}},
        },
    }
