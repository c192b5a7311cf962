"""JSON bodies validated by the pages' own WTForms classes.

The API has no validation rules of its own: `json_schema(FormClass)` reads the
form's fields and validators (types, ranges, lengths, patterns, choices) to
describe the body in the OpenAPI document, and `validate(FormClass, body)` first
checks JSON types against that same schema (so 1.5 is not silently truncated to
an integer), then runs the form itself with CSRF off, exactly as the page would.
"""
from __future__ import annotations

from typing import Any, Callable

from jsonschema import Draft202012Validator
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, DateTimeField, FloatField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from solver.instance import US_STATES

from ..forms.arrival import Base64Field
from ..forms.text import is_multiline
from ..services.errors import ServiceError


class ValidationFailed(ServiceError):
    """A body the form refused; `fields` names each field and why."""

    status = 422
    code = "validation_failed"


# Fields whose JSON shape differs from their HTML shape: (schema, JSON value -> form value).
# A list of states is a JSON array, where the page takes "KS, IL" in a text box.
JSON_SHAPES: dict[str, tuple[dict, Callable[[Any], Any]]] = {
    "icpc_approved_states": (
        {"type": "array", "items": {"enum": list(US_STATES)}, "uniqueItems": True,
         "description": "Other states with ICPC approval (two-letter codes)."},
        lambda states: ", ".join(states),
    ),
}


def _form(form_class, formdata=None):
    return form_class(formdata=formdata, meta={"csrf": False})


def _fields(form):
    return [field for field in form if field.name != "csrf_token"]


def _has(field, kind) -> bool:
    return any(isinstance(v, kind) for v in field.validators)


def _required(field) -> bool:
    if _has(field, (DataRequired, InputRequired)):
        return True
    # A number or choice without Optional and without a default cannot be left out.
    typed = isinstance(field, (IntegerField, FloatField, SelectField)) and not isinstance(field, SelectMultipleField)
    has_none_choice = isinstance(field, SelectField) and "" in [value for value, _ in field.choices]
    return typed and not _has(field, Optional) and field.default is None and not has_none_choice


def _field_schema(field) -> dict:
    if field.name in JSON_SHAPES:
        return dict(JSON_SHAPES[field.name][0])
    if isinstance(field, BooleanField):
        schema: dict = {"type": "boolean"}
    elif isinstance(field, DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, SelectMultipleField):
        schema = {"type": "array", "items": {"enum": [value for value, _ in field.choices]}, "uniqueItems": True}
    elif isinstance(field, SelectField):
        schema = {"enum": [value for value, _ in field.choices]}
    elif isinstance(field, Base64Field):
        schema = {"type": "string", "contentEncoding": "base64", "pattern": "^[A-Za-z0-9+/]*={0,2}$", "maxLength": 14_000_000}
    elif isinstance(field, DateField):
        schema = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "A date, e.g. 2026-12-31"}
    elif isinstance(field, DateTimeField):
        # The pages' datetime-local value: a wall-clock time in the token's user's own time zone.
        schema = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$",
                  "description": "Local time in your account's time zone, e.g. 2026-11-29T02:30"}
    elif isinstance(field, (IntegerField, FloatField)):
        schema = {"type": "integer" if isinstance(field, IntegerField) else "number"}
        for validator in field.validators:
            if isinstance(validator, NumberRange):
                if validator.min is not None:
                    schema["minimum"] = validator.min
                if validator.max is not None:
                    schema["maximum"] = validator.max
    elif isinstance(field, StringField):
        schema = {"type": "string"}
        for validator in field.validators:
            if isinstance(validator, Length):
                if validator.min > 0:
                    schema["minLength"] = validator.min
                if validator.max > 0:
                    schema["maxLength"] = validator.max
            elif isinstance(validator, Regexp):
                schema["pattern"] = validator.regex.pattern
        if "pattern" not in schema and _has(field, DataRequired):
            schema["pattern"] = r"\S"  # DataRequired refuses blank text
        # The shared text rule (forms.text): line breaks and tabs only in a multi-line field.
        schema["x-safebed-multiline"] = is_multiline(field)
    else:  # pragma: no cover - a new field type must be described here first
        raise TypeError(f"no JSON schema for {type(field).__name__} {field.name}")
    if field.label and field.label.text:
        schema["title"] = field.label.text
    if field.description:
        schema["description"] = field.description
    return schema


def json_schema(form_class, partial: bool = False) -> dict:
    """The JSON Schema (2020-12, as OpenAPI 3.1 uses) of a body for `form_class`.

    `partial`: every field may be left out (a PATCH merges the body over the stored values).
    """
    form = _form(form_class)
    properties, required = {}, []
    for field in _fields(form):
        schema = _field_schema(field)
        if _required(field):
            required.append(field.name)
        else:
            schema = {"anyOf": [schema, {"type": "null"}]} if "anyOf" not in schema else schema
        properties[field.name] = schema
    result = {"type": "object", "properties": properties}
    if required and not partial:
        result["required"] = required
    return result


def validate(form_class, body: Any, base: dict | None = None):
    """Run `form_class` on a JSON body (merged over `base` for partial updates).

    Returns the validated form; raises ValidationFailed naming each bad field.
    """
    if not isinstance(body, dict):
        raise ValidationFailed("The request body must be a JSON object.", {"body": "expected a JSON object"})
    data = {**(base or {}), **body}
    schema = json_schema(form_class)
    data = {name: value for name, value in data.items() if name in schema["properties"]}
    fields: dict[str, str] = {}
    for name in schema.get("required", []):
        if data.get(name) is None:
            fields[name] = "This field is required."
    for error in Draft202012Validator(schema).iter_errors(data):
        if error.path:
            fields.setdefault(str(error.path[0]), _message(error))
    if fields:
        raise ValidationFailed("Please correct the fields named in `fields`.", fields)
    blank = _form(form_class)
    formdata = MultiDict()
    for field in _fields(blank):
        name = field.name
        value = data.get(name)
        if value is None:
            # Left out or null: "not given"; for a choice whose empty option means "none", that option.
            if isinstance(field, SelectField) and "" in [v for v, _ in field.choices]:
                formdata.add(name, "")
            continue
        if name in JSON_SHAPES:
            value = JSON_SHAPES[name][1](value)
        for item in value if isinstance(value, list) else [value]:
            formdata.add(name, item)
    form = _form(form_class, formdata)
    if not form.validate():
        raise ValidationFailed(
            "Please correct the fields named in `fields`.",
            {name: "; ".join(str(m) for m in messages) for name, messages in form.errors.items()},
        )
    return form


def _message(error) -> str:
    validator = error.validator
    if validator == "type":
        expected = error.validator_value
        return f"Expected {' or '.join(expected) if isinstance(expected, list) else expected}."
    if validator in ("enum", "anyOf"):
        return "Not one of the allowed values."
    return error.message[:200]
