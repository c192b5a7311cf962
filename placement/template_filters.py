"""Jinja filters that put the domain's codes on screen in plain words.

`{{ referral.language|label('language') }}` shows "Spanish", never "es"; an unknown
code is shown as itself with underscores turned into spaces, so a page never fails.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from jinja2 import Environment

from solver.fit import FIT_SCALE, MAX_POINTS

from . import models, vocabulary
from .timeutil import format_day

LABELS: dict[str, dict] = {
    "program": vocabulary.PROGRAM_LABELS,
    "gender": vocabulary.GENDER_LABELS,
    "urgency": vocabulary.URGENCY_LABELS,
    "substance_use": vocabulary.SUBSTANCE_USE_LABELS,
    "substance_support": vocabulary.SUBSTANCE_SUPPORT_LABELS,
    "level": vocabulary.LEVEL_WORDS,
    "language": vocabulary.LANGUAGE_LABELS,
    "culture": vocabulary.CULTURAL_SERVICE_LABELS,
    "decline_reason": models.DECLINE_REASONS,
    "end_reason": models.PLACEMENT_END_REASONS,
    "located_by": models.LOCATED_BY,
    "report_kind": models.MISSING_REPORT_KINDS,
    "exploited": models.SCREENING_EXPLOITED,
    "health": models.SCREENING_HEALTH,
    "service": models.SCREENING_SERVICES,
    "referral_status": vocabulary.REFERRAL_STATUS_LABELS,
    "request_status": vocabulary.REQUEST_STATUS_LABELS,
    "offer_status": vocabulary.OFFER_STATUS_LABELS,
    "offer_decline_reason": models.OFFER_DECLINE_REASONS,
    "matcher_status": vocabulary.MATCHER_STATUS_LABELS,
}


def label(code, kind: str) -> str:
    """The human label of `code` in the vocabulary `kind`."""
    if code is None or code == "":
        return ""
    known = LABELS[kind].get(code)
    return known if known is not None else str(code).replace("_", " ")


def labels(codes, kind: str) -> str:
    """Several codes as one comma-separated phrase ("English, Spanish")."""
    return ", ".join(label(code, kind) for code in codes or ())


# The matcher (solver/, which knows no labels) words its reasons with codes; these
# patterns put the labels in.
_REASON_CODES = (
    (re.compile(r"^speaks (\w+)$"), lambda m: f"speaks {label(m.group(1), 'language')}"),
    (re.compile(r"^offers (\w+) cultural services$"), lambda m: f"offers {label(m.group(1), 'culture')} care"),
)


def reason_words(reason: str) -> str:
    """One fit reason with its codes as words ("speaks es" -> "speaks Spanish")."""
    for pattern, words in _REASON_CODES:
        match = pattern.match(reason)
        if match:
            return words(match)
    return reason


def fit_words(score: float, reasons=()) -> str:
    """'Fits 13 of 20 points: speaks Spanish, 81 km away' (fit scores run from 0 to 20)."""
    text = f"Fits {round(score)} of {MAX_POINTS // FIT_SCALE} points"
    return text + (": " + ", ".join(reason_words(r) for r in reasons) if reasons else "")


def register(env: Environment) -> None:
    """Add the filters to the app's Jinja environment."""
    env.filters["label"] = label
    env.filters["labels"] = labels
    env.filters["fit_words"] = fit_words
    env.tests["datetime"] = lambda value: isinstance(value, datetime)
    env.tests["day"] = lambda value: isinstance(value, date) and not isinstance(value, datetime)
    env.filters["day"] = format_day
