"""The sign-in and account blueprint; its routes live in `views`."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__)
