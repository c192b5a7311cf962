"""The OpenAPI 3.1 description, built from the routes themselves.

Every API route is declared with `api_route(...)`, which registers the Flask
route and records its summary, body form, response schema and parameters in
REGISTRY. `build_spec()` turns REGISTRY into the document served at
/api/v1/openapi.json; request bodies come from the pages' WTForms classes
(`bodies.json_schema`), so the description cannot drift from the validation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from flask import Blueprint

from . import bodies
from .schemas import COMPONENTS

API_VERSION = "1.0.0"
PREFIX = "/api/v1"


@dataclass(frozen=True)
class Operation:
    rule: str  # Flask rule under the blueprint, e.g. "/referrals/<int:referral_id>"
    method: str
    endpoint: str
    summary: str
    tag: str
    roles: tuple[str, ...]  # who may call it ("any" = every authenticated token)
    response: str | None  # component name of the success body
    status: int = 200
    body: type | None = None  # the WTForms class validating the JSON body
    partial: bool = False  # the body may leave out any field (PATCH, optional bodies)
    query: tuple[dict, ...] = ()
    idempotent: bool = False  # honours Idempotency-Key
    public: bool = False  # no token needed
    description: str = ""


REGISTRY: list[Operation] = []


def api_route(bp: Blueprint, rule: str, method: str, *, summary: str, tag: str, roles: tuple[str, ...] = ("any",),
              response: str | None = None, **options) -> Callable:
    """Register a Flask route on `bp` and describe it in REGISTRY."""

    def decorator(view):
        operation = Operation(rule=rule, method=method.upper(), endpoint=f"{bp.name}.{view.__name__}",
                              summary=summary, tag=tag, roles=roles, response=response,
                              description=(view.__doc__ or "").strip(), **options)
        REGISTRY.append(operation)
        bp.add_url_rule(rule, view_func=view, methods=[method.upper()])
        return view

    return decorator


_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def openapi_path(rule: str) -> str:
    """Flask's `/referrals/<int:referral_id>` as OpenAPI's `/api/v1/referrals/{referral_id}`."""
    return PREFIX + _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule)


def _path_parameters(rule: str) -> list[dict]:
    return [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 1} if converter == "int" else {"type": "string"}}
        for converter, name in _CONVERTER.findall(rule)
    ]


IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Any unique string (a UUID is fine). Sending the same key again replays the first answer "
                   "instead of acting twice; the same key with a different body is refused with 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7e]+$"},
}


def _operation(op: Operation) -> dict:
    who = "any authenticated token" if op.roles == ("any",) else ", ".join(op.roles)
    description = op.description + ("\n\n" if op.description else "") + (
        "Public: no token needed." if op.public else f"Allowed roles: {who}."
    )
    result: dict = {
        "operationId": op.endpoint.split(".", 1)[1],
        "summary": op.summary,
        "description": description,
        "tags": [op.tag],
        "x-safebed-roles": [] if op.public else list(op.roles),  # machine-readable "Allowed roles"
        "parameters": _path_parameters(op.rule) + list(op.query) + ([IDEMPOTENCY_HEADER] if op.idempotent else []),
        "responses": {
            str(op.status): {
                "description": op.summary,
                **({"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.response}"}}}}
                   if op.response else {}),
            },
            "default": {"$ref": "#/components/responses/Error"},
        },
    }
    if op.public:
        result["security"] = []
    if op.body is not None:
        result["requestBody"] = {"required": not op.partial,
                                 "content": {"application/json": {"schema": bodies.json_schema(op.body, op.partial)}}}
    return result


def build_spec() -> dict:
    """The OpenAPI 3.1 document for every registered API route."""
    paths: dict[str, dict] = {}
    for op in REGISTRY:
        paths.setdefault(openapi_path(op.rule), {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SafeBed API",
            "version": API_VERSION,
            "description": "JSON API for case-management systems and provider rosters: the same rules and "
                           "access policy as the SafeBed pages. Authenticate with a personal API token "
                           "(`Authorization: Bearer sbt_...`). Every error is "
                           "`{\"error\": {\"code\", \"message\", \"fields\"}}`. See docs/api.md.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerToken": []}],
        "tags": [{"name": name} for name in dict.fromkeys(op.tag for op in REGISTRY)],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "A personal API token from Account -> API tokens."},
            },
            "responses": {
                "Error": {"description": "Any error: 4xx or 5xx.",
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
            "schemas": COMPONENTS,
        },
    }
