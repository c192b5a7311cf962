"""The one rule for text that SafeBed accepts, from any page, form, query string or API body.

Control characters and lone surrogate halves are refused before any query: PostgreSQL
refuses NUL in text (an error, where SQLite would store it), a lone surrogate cannot be
encoded at all, and the others are invisible on every page that would show them. Tab,
newline and carriage return are ordinary typing in a multi-line field (a text area) and
stay allowed there; a single-line field, a query string or a request header refuses them
too. A text field that declares no length of its own is capped, so no field takes
100,000 characters.
"""
from __future__ import annotations

import unicodedata

from wtforms import StringField, TextAreaField
from wtforms.validators import Length, StopValidation

TYPED_CONTROLS = frozenset("\t\n\r")
DEFAULT_MAX_LENGTH = 1000
REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})  # control characters, surrogate halves


def unstorable_character(text: str, multiline: bool = True) -> str | None:
    """The first character of `text` that no SafeBed text may hold, or None.

    `multiline=False` (a single-line field, a query string) refuses tab, newline and
    carriage return as well."""
    allowed = TYPED_CONTROLS if multiline else frozenset()
    for character in text:
        if character not in allowed and unicodedata.category(character) in REFUSED_CATEGORIES:
            return character
    return None


def is_multiline(field) -> bool:
    """A field where typing a line break or a tab is expected: a text area."""
    return isinstance(field, TextAreaField)


def unstorable_message(character: str) -> str:
    """Plain words for the refusal: the character is invisible, so say where it came from."""
    if character in TYPED_CONTROLS:
        return "This takes a single line: please remove the line break or tab."
    return (f"This contains an invisible character that cannot be stored (U+{ord(character):04X}), often pasted "
            "from another program. Please retype it.")


def too_long_message(limit: int = DEFAULT_MAX_LENGTH) -> str:
    return f"Please keep this under {limit} characters."


def storable_text(_form, field) -> None:
    """WTForms validator run first on every text field (see `SafeBedForm`)."""
    if not isinstance(field.data, str):
        return
    character = unstorable_character(field.data, multiline=is_multiline(field))
    if character is not None:
        raise StopValidation(unstorable_message(character))
    declares_length = any(isinstance(v, Length) and v.max != -1 for v in field.validators)
    if not declares_length and len(field.data) > DEFAULT_MAX_LENGTH:
        raise StopValidation(too_long_message())


class SafeTextMeta:
    """Form meta that puts `storable_text` in front of every text field's validators."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField):  # TextAreaField, EmailField, PasswordField too
            field.validators = [storable_text, *field.validators]
        return field
