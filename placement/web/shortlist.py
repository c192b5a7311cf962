"""Long lists on a phone: the first few show, and "Show all" (`?all=1`) lists every one."""
from __future__ import annotations

from flask import request

# A phone shows the most urgent few; "Show all" lifts the cap.
SHOWN = 25


def shown_count(first: int = SHOWN) -> int | None:
    """How many entries of a list the page shows: `first`, or None (all of them) after "Show all"."""
    return None if request.args.get("all") == "1" else first
