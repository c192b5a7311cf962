"""Human labels for the domain's codes, shared by forms, pages and exports."""
from __future__ import annotations

PROGRAM_LABELS = {
    "crisis_stabilization": "Crisis stabilization",
    "short_term": "Short-term safe home",
    "long_term": "Long-term safe home",
    "transitional": "Transitional living",
    "therapeutic_foster": "Therapeutic foster family",
}
GENDER_LABELS = {"female": "Female", "male": "Male", "nonbinary": "Nonbinary"}
URGENCY_LABELS = {"emergency": "Emergency (now)", "urgent": "Urgent (within 72 hours)", "planned": "Planned"}
SUBSTANCE_SUPPORT_LABELS = {"none": "No substance-use support", "recovery": "Recovery support", "detox": "On-site detox"}
SUBSTANCE_USE_LABELS = {"none": "None", "recovery": "In recovery", "active": "Active use"}
LEVEL_LABELS = {0: "0 - none", 1: "1 - low", 2: "2 - moderate", 3: "3 - high"}
CULTURAL_SERVICE_LABELS = {
    "native": "Native / tribal youth",
    "lgbtq_affirming": "LGBTQ+ affirming",
    "latine": "Latine / Spanish-speaking families",
    "black_youth": "Black youth specific",
    "refugee_immigrant": "Refugee and immigrant youth",
}
LANGUAGE_LABELS = {
    "en": "English", "es": "Spanish", "vi": "Vietnamese", "zh": "Chinese", "ar": "Arabic",
    "so": "Somali", "fr": "French", "ht": "Haitian Creole", "ko": "Korean", "ru": "Russian",
    "tl": "Tagalog", "sw": "Swahili", "hmn": "Hmong", "asl": "American Sign Language",
}


def choices(labels: dict) -> list[tuple]:
    return list(labels.items())


# Need and care levels in words, for pages (forms keep the numbered LEVEL_LABELS).
LEVEL_WORDS = {0: "none", 1: "low", 2: "moderate", 3: "high"}
REFERRAL_STATUS_LABELS = {
    "open": "Looking for a bed",
    "held": "Bed held",
    "requested": "Placement requested",
    "placed": "Placed",
    "declined": "Declined: looking again",
    "closed": "Closed",
    "missing": "Missing from care",
}
REQUEST_STATUS_LABELS = {"pending": "Waiting for the home", "accepted": "Accepted", "declined": "Declined", "withdrawn": "Withdrawn"}
# A home's offer of a bed; a pending offer past its time reads "expired" before the sweep records it.
OFFER_STATUS_LABELS = {"pending": "Waiting for the caseworker", "accepted": "Accepted", "declined": "Declined",
                       "withdrawn": "Withdrawn: placed elsewhere or closed", "expired": "Expired"}
MATCHER_STATUS_LABELS = {
    "optimal": "the best possible set of placements (proven)",
    "feasible": "a good set of placements, the best found in the time limit",
}
