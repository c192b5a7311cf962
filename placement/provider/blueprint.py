"""The provider (operator) blueprint; its routes live in `views` and `lifecycle`."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("provider", __name__, url_prefix="/provider")
