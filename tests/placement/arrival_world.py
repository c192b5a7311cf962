"""A world for the request-to-arrival tests: one agency's referral and three homes of
three providers that can each take the youth (all data synthetic)."""
from __future__ import annotations

from dataclasses import dataclass

from ..helpers import make_referral


@dataclass
class ArrivalWorld:
    caseworker: object
    referral: object
    homes: list
    operators: list


def three_homes(factory, open_beds: int = 2, consent: bool = True, **referral_fields) -> ArrivalWorld:
    homes, operators = [], []
    for _ in range(3):
        provider = factory.org("provider", "MO")
        operators.append(factory.user("operator", provider))
        homes.append(factory.home(provider, availability={"open_beds": open_beds, "staff_on_duty": 2,
                                                          "youth_per_staff": 3, "current_youth": 2}))
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    return ArrivalWorld(caseworker, make_referral(factory, caseworker, consent=consent, **referral_fields), homes, operators)
