"""A world for the request-to-arrival tests: one agency's referral and three homes of
three providers that can each take the youth (all data synthetic)."""
from __future__ import annotations

from dataclasses import dataclass

from ..helpers import make_referral


SWEEP_DOCUMENT = b"%PDF-1.7\nSWEEP-SENTINEL-DOCUMENT\n%%EOF\n"


def sealed_document(factory, referral, caseworker, data: bytes = SWEEP_DOCUMENT):
    """An intake document row sealed the way uploads are (synthetic)."""
    from placement.models import IntakeDocument
    from placement.services import documents

    document = IntakeDocument(referral_id=referral.id, kind="custody_order", content_type="application/pdf", size_bytes=len(data),
                              key_id="", nonce=b"", ciphertext=b"", uploaded_by_id=caseworker.id)
    with factory.app.app_context():
        from placement import sealing

        sealed = sealing.seal(data, documents._context(document))
    document.key_id, document.nonce, document.ciphertext = sealed.key_id, sealed.nonce, sealed.ciphertext
    factory.session.add(document)
    factory.session.commit()
    return document


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


def placed(app, factory, started_hours_ago: float = 0) -> tuple[ArrivalWorld, object]:
    """The world's youth requested at its first home and accepted there: (world, placement).
    `started_hours_ago` moves the acceptance back, so a departure can be hours old."""
    from datetime import timedelta

    from placement.services import booking

    world = three_homes(factory)
    with app.app_context():
        request = booking.request_placement(factory.session, world.caseworker, world.referral, world.homes[0].id)
        placement = booking.accept(factory.session, world.operators[0], request)
    if started_hours_ago:
        placement.started_at = placement.started_at - timedelta(hours=started_hours_ago)
        factory.session.add(placement)
        factory.session.commit()
    return world, placement


def departed(factory, world, placement, departed_hours_ago: float, expected_hours_ago: float):
    """A handoff row: the youth left `departed_hours_ago` and was expected `expected_hours_ago`."""
    from datetime import timedelta

    from placement.models import Handoff
    from placement.timeutil import utcnow

    now = utcnow()
    row = Handoff(placement_id=placement.id, escort_name="Sam Escort (agency)", departed_at=now - timedelta(hours=departed_hours_ago),
                  expected_arrival_at=now - timedelta(hours=expected_hours_ago), recorded_by_id=world.caseworker.id)
    factory.session.add(row)
    factory.session.commit()
    return row
