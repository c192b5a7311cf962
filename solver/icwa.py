"""ICWA placement preferences: which step of the Indian Child Welfare Act's order a home meets.

For a youth the Act applies to, 25 U.S.C. 1915(b) orders foster care and pre-adoptive
placements (absent good cause):

  1  a member of the youth's extended family
  2  a foster home licensed, approved or specified by the youth's tribe
  3  an Indian foster home licensed or approved by an authorised non-Indian authority
  4  an institution for children approved by a tribe or run by an Indian organisation

SafeBed lists licensed sites, not relatives, so no home meets step 1 (a caseworker looks
for kin first); a home outside the order meets no step (`None`). A home is a foster home
when its program is therapeutic foster care; every other program is an institution.
Step 2 needs the youth's own tribe among the home's `tribal_approvals`; step 3 a foster
home that is Native-serving or approved by any tribe; step 4 an institution approved by
a tribe or Native-serving.

Search ranks homes by step and names it; the matcher maximises, right after the urgency
tiers, the ICWA youths placed in the best step any eligible home with room offers them
(`prepare`: the `icwa` coefficient of a pair).
"""
from __future__ import annotations

from .instance import Home, Referral

STEPS = {
    1: "with the youth's extended family",
    2: "a foster home licensed or approved by the youth's tribe",
    3: "an Indian foster home",
    4: "an institution approved by a tribe or run by an Indian organisation",
}
OUTSIDE = "outside the ICWA preference order"
FOSTER_PROGRAMS = ("therapeutic_foster",)


def preference_step(home: Home, referral: Referral) -> int | None:
    """The step of the ICWA order `home` meets for `referral` (2..4), or None: outside the
    order, or the Act does not apply to the youth."""
    if not referral.icwa:
        return None
    foster = home.program in FOSTER_PROGRAMS
    native = home.native_serving or bool(home.tribal_approvals)
    if foster and referral.tribe is not None and referral.tribe in home.tribal_approvals:
        return 2
    if foster and native:
        return 3
    if not foster and native:
        return 4
    return None


def step_text(step: int | None) -> str:
    """The step in words, for the people allowed to see tribal data."""
    return OUTSIDE if step is None else f"step {step}: {STEPS[step]}"


def rank(step: int | None) -> int:
    """Sort key: a lower step first, a home outside the order last."""
    return len(STEPS) + 1 if step is None else step
