"""A serving process made ready before its first request."""
from __future__ import annotations

import gc

from flask import Flask


def warm_start(app: Flask) -> None:
    """Compile every page template, then keep the objects alive now out of Python's
    garbage collector for good. Call it once the app is built, in a process that serves
    requests (not in tests or commands: they build apps and throw them away).

    Templates: a worker compiled each on its first use, 0.3 s for all 54, which the first
    visitor of each page paid (the capacity dashboard's first request 174 ms, then 110).

    Collector: a full collection walks every tracked object while holding the GIL, so it
    stalls every request thread of the process. With the app's start-up objects (modules,
    SQLAlchemy's and OR-Tools' tables, the compiled templates: about 200,000) it took
    88-124 ms, and one ran within about every ninth coordinator page; frozen, it takes
    2.5 ms. Start-up objects live as long as the process anyway."""
    environment = app.jinja_env
    for name in environment.list_templates(filter_func=lambda name: name.endswith(".html")):
        environment.get_template(name)
    gc.collect()
    gc.freeze()
