"""The demo's protective rules (issue 18), all synthetic: a tribe list, homes with tribal
approval, a keep-away county and a keep-apart pair on demo referrals, and a Native youth's
referral with ICWA applying. Added once, also to a demo built before they existed."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from ..models import Home, KeepApartLink, KeepAwayArea, Referral, Tribe, User
from ..timeutil import utcnow

TRIBES = ("Osage Nation (demo)", "Cherokee Nation (demo)", "Sac and Fox Nation of Missouri (demo)")
KEEP_AWAY = ("MO-2026-1000", "Jackson", 39.10, -94.58)  # Kansas City: where the trafficker operates (synthetic)
KEEP_APART = ("MO-2026-1000", "MO-2026-1001")  # co-victims of one exploiter (synthetic)
NATIVE_YOUTH = "MO-2026-1002"


def add_protections(session: Session) -> None:
    if session.exec(select(Tribe)).first() is not None:
        return
    coordinator = session.exec(select(User).where(User.email == "coordinator.mo@safebed.example")).first()
    if coordinator is None:  # not the demo world
        return
    tribes = [Tribe(name=name, created_by_id=coordinator.id) for name in TRIBES]
    session.add_all(tribes)
    homes = list(session.exec(select(Home).where(Home.state == "MO").order_by(Home.id)).all())
    foster = [h for h in homes if h.program == "therapeutic_foster"]
    for home in foster[:2]:
        home.tribal_approvals = [TRIBES[0]]  # a foster home the youth's tribe approved: step 2
        session.add(home)
    for home in [h for h in homes if h.program == "therapeutic_foster"][2:3]:
        home.native_serving = True  # an Indian foster home: step 3
        session.add(home)
    for home in [h for h in homes if h.program == "long_term"][:1]:
        home.native_serving = True  # run by an Indian organisation: step 4
        session.add(home)
    by_reference = {r.case_reference: r for r in session.exec(select(Referral).where(Referral.custody_state == "MO")).all()}
    session.flush()
    reference, county, lat, lon = KEEP_AWAY
    if reference in by_reference:
        referral = by_reference[reference]
        session.add(KeepAwayArea(referral_id=referral.id, kind="county", state="MO", county=county,
                                 label=f"{county} County, MO", lat=lat, lon=lon, created_by_id=referral.created_by_id))
    if all(r in by_reference for r in KEEP_APART):
        a, b = sorted(by_reference[r].id for r in KEEP_APART)
        session.add(KeepApartLink(referral_a_id=a, referral_b_id=b, created_by_id=by_reference[KEEP_APART[0]].created_by_id))
    if NATIVE_YOUTH in by_reference:
        youth = by_reference[NATIVE_YOUTH]
        youth.icwa_applies, youth.tribe_id, youth.tribal_status = True, tribes[0].id, "member"
        youth.cultural_need = "native"
        youth.tribe_notice_on = (utcnow() - timedelta(days=2)).date()
        youth.tribe_notice_method = "registered_mail"
        session.add(youth)
    session.commit()
