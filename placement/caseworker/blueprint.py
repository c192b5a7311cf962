"""The caseworker blueprint; its routes live in `views` and `lifecycle`."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("caseworker", __name__, url_prefix="/caseworker")
