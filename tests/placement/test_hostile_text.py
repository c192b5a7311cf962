"""Hostile text is refused by one shared rule (`placement.forms.text`) over every field and route.

The cases are generated, not listed: every text field of every form class, and every
route of the URL map (through the access sweep's table and world, as an actor the
table allows), so a field or route added later is covered without anyone remembering it.
"""
from __future__ import annotations

import importlib
import pkgutil

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from sqlmodel import SQLModel
from werkzeug.datastructures import MultiDict
from wtforms import StringField

import placement.forms
from placement.forms.fields import SafeBedForm
from placement.forms.text import DEFAULT_MAX_LENGTH, unstorable_character

from ..helpers import api_token, csrf_token, login
from .access_table import ACTORS, ALLOWED, ANONYMOUS, actor_user, build_world, json_value, ordered_rules

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
            typed = cls(formdata=MultiDict({name: "a\tb\r\nc"}), meta={"csrf": False})
            typed[name].validate(typed)
            assert not any("cannot be stored" in error for error in typed[name].errors), (cls.__name__, name)
    assert DEFAULT_MAX_LENGTH < len(HUNDRED_THOUSAND)


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
