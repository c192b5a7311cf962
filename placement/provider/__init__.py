"""Provider portal: an operator's homes, tonight's availability, requests and the youths placed."""
from __future__ import annotations

from . import lifecycle, queue, response_times, views  # noqa: F401 - importing them adds their routes to bp
from .blueprint import bp  # noqa: F401 - what create_app registers
