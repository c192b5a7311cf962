"""Sign in, sign out, passwords, invitations, notifications and personal API tokens."""
from __future__ import annotations

from . import views  # noqa: F401 - importing it adds its routes to bp
from .blueprint import bp  # noqa: F401 - what create_app registers
