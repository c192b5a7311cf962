"""Sign in, sign out, passwords, invitations, notifications and personal API tokens."""
from __future__ import annotations

from . import alert_settings, views  # noqa: F401 - importing them adds their routes to bp
from .blueprint import bp  # noqa: F401 - what create_app registers
