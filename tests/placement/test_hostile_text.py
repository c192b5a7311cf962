"""Hostile text is refused by one shared rule (`placement.forms.text`) over every field and route.

The cases are generated, not listed: every text field of every form class, and every
route of the URL map (through the access sweep's table and world, as an actor the
table allows), so a field or route added later is covered without anyone remembering it.
"""
from __future__ import annotations

import importlib
from html.parser import HTMLParser
import pkgutil

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from sqlmodel import SQLModel
from werkzeug.datastructures import MultiDict
from wtforms import StringField, TextAreaField

import placement.forms
from placement.forms.fields import SafeBedForm
from placement.forms.text import DEFAULT_MAX_LENGTH, unstorable_character

from ..helpers import api_token, csrf_token, login
from .access_table import ACTORS, ALLOWED, ANONYMOUS, TABLE, actor_user, build_world, json_value, ordered_rules

C0_CONTROLS = [chr(code) for code in range(0x20) if chr(code) not in "\t\n\r"]
HOSTILE_CHARACTERS = [*C0_CONTROLS, "\x7f", "\x85", "\ud800", "\udfff"]
HUNDRED_THOUSAND = "x" * 100_000


def _form_classes() -> list[type]:
    for module in pkgutil.iter_modules(placement.forms.__path__):
        importlib.import_module(f"placement.forms.{module.name}")
    found, pending = [], [FlaskForm]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.startswith("placement."):
                found.append(subclass)
    return found


def _text_fields(app) -> list[tuple[type, str]]:
    with app.test_request_context():
        return [(cls, field.name) for cls in _form_classes() if cls is not SafeBedForm
                for field in cls(meta={"csrf": False}) if isinstance(field, StringField)]


def test_every_form_of_the_app_uses_the_shared_rule(app):
    classes = _form_classes()
    assert len(classes) >= 20
    strays = [cls.__qualname__ for cls in classes if not issubclass(cls, SafeBedForm)]
    assert not strays, f"forms that bypass SafeBedForm (and so the shared text rule): {strays}"


@pytest.mark.parametrize("character", HOSTILE_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_text_field_of_every_form_refuses_the_character(app, character):
    fields = _text_fields(app)
    assert len(fields) >= 20
    with app.test_request_context():
        for cls, name in fields:
            form = cls(formdata=MultiDict({name: f"ok{character}ok"}), meta={"csrf": False})
            form[name].validate(form)
            assert form[name].errors and "cannot be stored" in form[name].errors[0], (cls.__name__, name)


def test_every_text_field_refuses_a_hundred_thousand_characters_and_keeps_tabs_and_newlines(app):
    with app.test_request_context():
        for cls, name in _text_fields(app):
            long_form = cls(formdata=MultiDict({name: HUNDRED_THOUSAND}), meta={"csrf": False})
            long_form[name].validate(long_form)
            assert long_form[name].errors, (cls.__name__, name)
    assert DEFAULT_MAX_LENGTH < len(HUNDRED_THOUSAND)


def test_tabs_and_line_breaks_only_where_the_field_is_multi_line(app):
    """A text area keeps what a person types (tab, newline, CRLF); a one-line field refuses them."""
    multi_line = 0
    with app.test_request_context():
        for cls, name in _text_fields(app):
            for typed in ("a\tb", "a\nb", "a\r\nb"):
                form = cls(formdata=MultiDict({name: typed}), meta={"csrf": False})
                form[name].validate(form)
                refused = any("single line" in error for error in form[name].errors)
                if isinstance(form[name], TextAreaField):
                    assert not refused and not any("cannot be stored" in e for e in form[name].errors), (cls.__name__, name)
                else:
                    assert refused, (cls.__name__, name, typed)
            multi_line += isinstance(cls(meta={"csrf": False})[name], TextAreaField)
    assert multi_line >= 1  # case notes


def _stored_text(factory) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text value in the database."""
    factory.session.commit()
    found = []
    for table in SQLModel.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, sa.String)]
        if not columns:
            continue
        for row in factory.session.connection().execute(sa.select(*columns)):
            found += [(table.name, column.name, value) for column, value in zip(columns, row) if isinstance(value, str)]
    return found


def _row_counts(factory) -> dict[str, int]:
    """Rows in every table but the audit log (a refused or read request may be audited)."""
    factory.session.commit()
    connection = factory.session.connection()
    return {table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables if table.name != "audit_event"}


def _first_allowed_actor(row) -> str | None:
    return next((actor for actor in ACTORS if actor != ANONYMOUS and row.expect[actor] == ALLOWED), None)


# Form posts cannot carry a lone surrogate (it has no UTF-8 form); JSON bodies can.
PAGE_PAYLOADS = {"NUL": "Synthetic\x00note", "ESC": "Synthetic\x1b[2Jnote", "100k": HUNDRED_THOUSAND}
API_PAYLOADS = {**PAGE_PAYLOADS, "surrogate": "Synthetic\ud800note"}


@pytest.mark.parametrize("payload", list(API_PAYLOADS))
def test_every_route_refuses_hostile_text_in_every_field_without_a_server_error(app, factory, payload):
    """Every route, as an actor it allows, with the payload in every text field name any form
    knows (and in the query string): never a 5xx, and nothing hostile is stored."""
    value = API_PAYLOADS[payload]
    world = build_world(factory)
    names = sorted({name for _, name in _text_fields(app)})
    sessions: dict[str, tuple] = {}
    failures = []
    for rule, row in ordered_rules(app):
        actor = _first_allowed_actor(row)
        if actor is None:
            continue
        if actor not in sessions:
            client = app.test_client()
            user = actor_user(factory, world, actor)
            login(client, user)
            sessions[actor] = (client, api_token(factory, user))
        client, token = sessions[actor]
        path = app.url_map.bind("localhost").build(rule.endpoint, {n: world.ids[row.args.get(n, n)] for n in rule.arguments})
        is_api = rule.rule.startswith("/api/")
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if "GET" in methods:
            query = {name: value for name in names} if payload != "surrogate" else {}
            if query:
                response = client.get(path, query_string=query, headers={"Authorization": f"Bearer {token}"} if is_api else {})
                if response.status_code not in (400, 422):
                    failures.append(f"GET {rule.rule}?...: {response.status_code}, expected the query string refused")
        if is_api:
            method = next(iter(methods - {"GET"}), None)
            if method is None:
                continue
            body = {**{n: json_value(v, world.ids) for n, v in row.form.items()}, **dict.fromkeys(names, value)}
            response = client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
        elif "POST" in methods and payload in PAGE_PAYLOADS:
            form = {**{n: v.format(**world.ids) for n, v in row.form.items()}, **dict.fromkeys(names, value)}
            form["csrf_token"] = csrf_token(client, "/account/password")
            response = client.post(path, data=form)
        else:
            continue
        if response.status_code >= 500:
            failures.append(f"{rule.endpoint} ({rule.rule}): {response.status_code}")
    stored = [(t, c, v[:40]) for t, c, v in _stored_text(factory)
              if unstorable_character(v) is not None or len(v) >= len(HUNDRED_THOUSAND)]
    assert not failures, "\n".join(failures)
    assert not stored, f"hostile text reached the database: {stored}"


def test_a_deeply_nested_json_body_is_refused_not_a_server_error(app, factory):
    user = factory.user("caseworker")
    token = api_token(factory, user)
    for depth in (40, 5000):
        body = "[" * depth + "]" * depth
        response = app.test_client().post("/api/v1/referrals", data=body, content_type="application/json",
                                          headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 422, depth
        assert "nested" in response.get_json()["error"]["fields"]["body"]


# Every form of every page, found by reading the pages the URL map serves ----------------

TEXT_INPUTS = {"text", "email", "password", "search", "tel", "url", ""}


class _FormHarvest(HTMLParser):
    """The POST forms of a page: action, hidden values, text inputs, first option of each select."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action") or "", "method": (attributes.get("method") or "get").lower(),
                               "fixed": {}, "text": []})
            return
        if not self.forms:
            return
        form, name = self.forms[-1], attributes.get("name")
        if tag == "input" and name:
            kind = (attributes.get("type") or "").lower()
            if kind in TEXT_INPUTS:
                form["text"].append(name)
            elif kind in {"hidden", "number", "datetime-local", "date", "time"} or (kind in {"radio", "checkbox"} and name not in form["fixed"]):
                form["fixed"].setdefault(name, attributes.get("value") or "1")
        elif tag == "textarea" and name:
            form["text"].append(name)
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and attributes.get("value"):
            form["fixed"].setdefault(self._select, attributes["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _page_forms(client, path: str) -> list[dict]:
    response = client.get(path)
    if response.status_code != 200 or not response.content_type.startswith("text/html"):
        return []
    harvest = _FormHarvest()
    harvest.feed(response.get_data(as_text=True))
    return [form for form in harvest.forms if form["method"] == "post" and form["text"]]


PAGE_FORM_PAYLOADS = {"NUL": "Synthetic\x00note", "ESC": "Synthetic\x1bnote", "DEL": "Synthetic\x7fnote",
                      "line break": "Synthetic\r\nnote", "100k": HUNDRED_THOUSAND}


@pytest.mark.parametrize("payload", list(PAGE_FORM_PAYLOADS))
def test_every_form_on_every_page_refuses_hostile_text_and_writes_nothing(app, factory, payload):
    """Every page route of the URL map, as an actor the access table allows: each POST form on
    the page is submitted with the payload in all its text inputs. Never a 5xx, never a row
    written (line breaks stay allowed in text areas, so that payload spares them)."""
    value = PAGE_FORM_PAYLOADS[payload]
    world = build_world(factory)
    clients: dict[str, object] = {}
    for actor in ACTORS:
        client = app.test_client()
        if actor != ANONYMOUS:
            login(client, actor_user(factory, world, actor))
        clients[actor] = client
    submissions = []
    for rule, row in ordered_rules(app):
        if rule.rule.startswith("/api/") or "GET" not in rule.methods or rule.endpoint == "auth.logout":
            continue
        actor = ANONYMOUS if row.expect[ANONYMOUS] == ALLOWED else _first_allowed_actor(row)
        if actor is None:
            continue
        path = app.url_map.bind("localhost").build(rule.endpoint, {n: world.ids[row.args.get(n, n)] for n in rule.arguments})
        for form in _page_forms(clients[actor], path):
            submissions.append((actor, form["action"] or path, form))
    assert len(submissions) >= 15, submissions
    before = _row_counts(factory)
    failures = []
    textareas_spared = payload == "line break"
    for actor, action, form in submissions:
        data = dict(form["fixed"])
        for name in form["text"]:
            data[name] = value
        if textareas_spared:
            data = {**data, **{name: "Synthetic" for name in form["text"] if name in {"case_notes"}}}
        response = clients[actor].post(action, data=data)
        if response.status_code >= 500:
            failures.append(f"{actor} POST {action}: {response.status_code}")
    after = _row_counts(factory)
    assert not failures, "\n".join(failures)
    written = {table: (before[table], after[table]) for table in before if before[table] != after[table]}
    assert not written, f"rows written by refused forms: {written}"


# Every operation of the OpenAPI description ------------------------------------------------

API_FIELD_PAYLOADS = {"NUL": "Synthetic\x00note", "ESC": "Synthetic\x1bnote", "DEL": "Synthetic\x7fnote",
                      "surrogate": "Synthetic\ud800note", "line break": "Synthetic\nnote", "100k": HUNDRED_THOUSAND}


def _is_text(schema: dict) -> bool:
    options = schema.get("anyOf", [schema])
    return any(option.get("type") == "string" for option in options)


def _multiline(schema: dict) -> bool:
    return any(option.get("x-safebed-multiline") for option in schema.get("anyOf", [schema]))


def _api_operations(app, world):
    """(method, path, endpoint, body schema, query parameter names, idempotent) from the served description."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = []
    for template, methods in spec["paths"].items():
        for method, operation in methods.items():
            endpoint = "api." + operation["operationId"]
            row = TABLE[endpoint]
            path = template
            for parameter in operation["parameters"]:
                if parameter["in"] == "path":
                    name = parameter["name"]
                    path = path.replace("{" + name + "}", str(world.ids[row.args.get(name, name)]))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            query = [p["name"] for p in operation["parameters"] if p["in"] == "query" and _is_text(p.get("schema", {}))]
            headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
            operations.append((method.upper(), path, endpoint, row, body, query, headers))
    return operations


@pytest.mark.parametrize("payload", list(API_FIELD_PAYLOADS))
def test_every_api_operation_refuses_hostile_text_in_each_field_naming_it(app, factory, payload):
    """Generated from the OpenAPI description: each text property of each request body and each
    text query parameter, one at a time, holds the payload. The answer is 422 naming that field
    (or 400 for a query string), never a 5xx, and no row is written."""
    value = API_FIELD_PAYLOADS[payload]
    world = build_world(factory)
    operations = _api_operations(app, world)
    tokens = {}
    for *_, row, _body, _query, _headers in operations:
        actor = _first_allowed_actor(row)
        if actor and actor not in tokens:
            tokens[actor] = api_token(factory, actor_user(factory, world, actor))
    client = app.test_client()
    before = _row_counts(factory)
    failures, tried = [], 0
    for method, path, endpoint, row, body, query, _headers in operations:
        actor = _first_allowed_actor(row)
        if actor is None:
            continue
        auth = {"Authorization": f"Bearer {tokens[actor]}"}
        defaults = {n: json_value(v, world.ids) for n, v in row.form.items()}
        fields = [name for name, schema in (body or {}).get("properties", {}).items()
                  if _is_text(schema) and not (payload == "line break" and _multiline(schema))]
        for name in fields:
            tried += 1
            response = client.open(path, method=method, json={**defaults, name: value}, headers=auth)
            named = (response.get_json() or {}).get("error", {}).get("fields", {})
            if response.status_code != 422 or name not in named:
                failures.append(f"{method} {path} body {name}: {response.status_code} {named}")
        for name in query:
            tried += 1
            response = client.open(path, method=method, query_string={name: value}, headers=auth)
            if response.status_code not in (400, 422):
                failures.append(f"{method} {path} ?{name}: {response.status_code}")
    after = _row_counts(factory)
    assert tried >= 8, tried
    assert not failures, "\n".join(failures)
    written = {table: (before[table], after[table]) for table in before if before[table] != after[table]}
    assert not written, f"rows written by refused API calls: {written}"


@pytest.mark.parametrize("shape", ["array", "object"])
def test_every_api_operation_with_a_body_refuses_a_thousand_deep_json(app, factory, shape):
    world = build_world(factory)
    operations = [op for op in _api_operations(app, world) if op[4] is not None]
    assert len(operations) >= 8
    client = app.test_client()
    actors = {_first_allowed_actor(op[3]) for op in operations}  # one token per actor: a user may hold 10 at most
    tokens = {actor: api_token(factory, actor_user(factory, world, actor)) for actor in actors}
    before = _row_counts(factory)
    for method, path, _endpoint, row, _body, _query, _headers in operations:
        token = tokens[_first_allowed_actor(row)]
        deep = "[" * 1000 + "]" * 1000 if shape == "array" else '{"a":' * 1000 + "1" + "}" * 1000
        response = client.open(path, method=method, data=deep, content_type="application/json",
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 422, (method, path, response.status_code)
        assert "nested" in response.get_json()["error"]["fields"]["body"]
    after = _row_counts(factory)
    assert after == before


HOSTILE_HEADER_VALUES = {"NUL": "a\x00b", "ESC": "a\x1bb", "DEL": "a\x7fb", "BEL": "a\x07b", "100k": "x" * 100_000}


@pytest.mark.parametrize("payload", list(HOSTILE_HEADER_VALUES))
def test_hostile_text_in_the_headers_the_app_reads_is_refused(app, factory, payload):
    """The bearer token and the Idempotency-Key (every header the description names) and the
    sign-in page's headers (a raw line break cannot travel in a header at all): 422 naming the header on the API, a 400 page elsewhere."""
    value = HOSTILE_HEADER_VALUES[payload]
    world = build_world(factory)
    caseworker = world.users["caseworker"]
    token = api_token(factory, caseworker)
    client = app.test_client()
    header_names = {name for *_, headers in _api_operations(app, world) for name in headers} | {"Authorization"}
    assert "Idempotency-Key" in header_names
    before = _row_counts(factory)
    hold_path = f"/api/v1/referrals/{world.ids['api_referral_id']}/holds"
    for name in sorted(header_names):
        headers = {"Authorization": f"Bearer {token}", name: value if name != "Authorization" else f"Bearer {value}"}
        response = client.post(hold_path, json={"home_id": world.ids["home_id"]}, headers=headers)
        assert response.status_code == 422, (name, response.status_code)
        assert name in response.get_json()["error"]["fields"]
    page = client.get("/login", headers={"X-Forwarded-For": value, "Referer": value})
    assert page.status_code == 400
    assert "SafeBed" in page.get_data(as_text=True)
    assert _row_counts(factory) == before
