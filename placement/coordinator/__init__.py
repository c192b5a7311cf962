"""Coordinator pages: statewide capacity, matcher runs and unmet need."""
from __future__ import annotations

from . import protections, views  # noqa: F401 - importing them adds their routes to bp
from .blueprint import bp  # noqa: F401 - what create_app registers
