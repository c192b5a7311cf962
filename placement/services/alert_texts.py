"""The words of every alert that leaves SafeBed (e-mail, webhook).

No child data leaves in a message: no case reference, case notes, address, age or
needs. Each function takes only the few plain values it may say (a home's name, an
urgency word, a count) and nothing else, never a row, so a message cannot pick
up a field by accident. The link opens the page in SafeBed, where access rules apply.
"""
from __future__ import annotations

from dataclasses import dataclass

URGENCY_WORDS = {"emergency": "emergency", "urgent": "urgent", "planned": "planned"}


@dataclass(frozen=True)
class AlertText:
    subject: str
    body: str  # the sentence; the link is added when it is delivered


def _text(subject: str, sentence: str) -> AlertText:
    return AlertText(subject=f"SafeBed: {subject}", body=sentence)


def with_link(body: str, link: str) -> str:
    """The text that leaves: the sentence, then the absolute link (added at delivery)."""
    return f"{body} Open SafeBed: {link}"


def request_new(home_name: str, urgency: str) -> AlertText:
    word = URGENCY_WORDS.get(urgency, "placement")
    return _text(f"placement request waiting ({word})",
                 f"A placement request is waiting at {home_name} ({word}).")


def request_answered(home_name: str, accepted: bool) -> AlertText:
    verb = "accepted" if accepted else "declined"
    return _text(f"{home_name} {verb} your request", f"{home_name} {verb} your placement request.")


def hold_expiring(home_name: str) -> AlertText:
    return _text("a bed hold expires in 30 minutes",
                 f"Your bed hold at {home_name} expires in 30 minutes. Request the placement or release the hold.")


def request_escalated(home_name: str, urgency: str, minutes: int) -> AlertText:
    word = URGENCY_WORDS.get(urgency, "placement")
    return _text(f"request unanswered for {minutes} minutes",
                 f"A placement request ({word}) at {home_name} has had no answer for {minutes} minutes. "
                 "Other eligible homes with room are listed on the referral.")


def escalated_no_home() -> AlertText:
    return _text("a youth needs a bed now", "A caseworker found no eligible home and asks the coordinator for help.")


def missing_opened(home_name: str) -> AlertText:
    return _text("youth missing from care",
                 f"A youth was reported missing from {home_name}. "
                 "Reports to law enforcement and NCMEC are due within 24 hours.")


def report_due(hours_left: int) -> AlertText:
    return _text("missing-youth report due soon",
                 f"A missing-youth report is due within {hours_left} hours and is not recorded yet.")


def report_overdue() -> AlertText:
    return _text("missing-youth report overdue",
                 "A missing-youth report is overdue: it was due 24 hours after the episode was recorded.")


def figures_stale(home_name: str, hours: int) -> AlertText:
    return _text(f"update tonight's figures for {home_name}",
                 f"The figures for {home_name} are {hours} hours old. Update them in one tap.")


def matcher_done(state: str, proposals: int) -> AlertText:
    return _text(f"matcher run for {state} finished",
                 f"The matcher run for {state} finished with {proposals} proposed placements.")


def placed_elsewhere(home_name: str) -> AlertText:
    return _text("request withdrawn: placed elsewhere",
                 f"The youth you were asked to take at {home_name} was placed elsewhere; thank you. "
                 "The places are free again.")


def arrival_overdue(home_name: str, minutes: int) -> AlertText:
    return _text("a youth in transit has not arrived",
                 f"A youth travelling to {home_name} was not confirmed as arrived {minutes} minutes after the expected time. "
                 "Confirm the arrival, or record the youth missing from care in one tap.")


def offer_new(home_name: str, hours: float) -> AlertText:
    return _text("a home offered a bed",
                 f"{home_name} offered a bed to one of your youths. The offer keeps the bed for {hours:g} hours: "
                 "accept or decline it on the referral's page.")


def offer_withdrawn(home_name: str) -> AlertText:
    return _text("a home withdrew its offer of a bed",
                 f"{home_name} withdrew its offer of a bed to one of your youths: the bed is no longer kept. "
                 "Search again on the referral's page.")


def offer_expired_for_caseworker(home_name: str) -> AlertText:
    return _text("an offer of a bed expired",
                 f"The offer of a bed at {home_name} to one of your youths expired before it was answered: "
                 "the bed is no longer kept. Search again on the referral's page.")


def offer_expired_for_home(home_name: str) -> AlertText:
    return _text("your offer of a bed expired",
                 f"The caseworker did not answer the bed {home_name} offered in time: the offer has expired "
                 "and its places are free again.")


def offer_answered(home_name: str, accepted: bool) -> AlertText:
    if accepted:
        return _text("your offer of a bed was accepted",
                     f"The caseworker accepted the bed {home_name} offered: the placement is made; expect the youth.")
    return _text("your offer of a bed was declined",
                 f"The caseworker declined the bed {home_name} offered; thank you. The places are free again.")
