"""The coordinator blueprint; its routes live in `views`."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")
