"""The shortcuts that keep the bed search and "Needs a bed now" fast with thousands of homes
and hundreds of waiting referrals agree with the plain answer."""
from __future__ import annotations

import random
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from placement.models import KeepApartLink, Referral
from placement.services import search as search_service
from placement.services.id_lists import among
from solver.eligibility import staffed_room
from solver.instance import GENDERS, PROGRAMS, SUBSTANCE_SUPPORT, SUBSTANCE_USE

from ..helpers import make_referral

STALE = 24


def _random_world(factory, rng: random.Random, homes: int, referrals: int) -> list[Referral]:
    """Homes in MO and KS with random intake rules, and MO referrals with random needs."""
    providers = {state: factory.org("provider", state) for state in ("MO", "KS")}
    for _ in range(homes):
        low = rng.randint(8, 16)
        factory.home(
            providers[rng.choice(["MO", "MO", "KS"])], None if rng.random() < 0.8 else False,
            min_age=low, max_age=rng.randint(low, 18), genders=rng.sample(GENDERS, rng.randint(1, len(GENDERS))),
            accepts_pregnant=rng.random() < 0.5, accepts_parenting=rng.random() < 0.5,
            substance_use_support=rng.choice(SUBSTANCE_SUPPORT), medical_level=rng.randint(0, 3),
            mental_health_level=rng.randint(0, 3), program=rng.choice(PROGRAMS),
            accepts_out_of_state=rng.random() < 0.5, is_active=rng.random() < 0.9,
            lat=38.9 + rng.uniform(-1, 1), lon=-94.0 + rng.uniform(-2, 2))
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    return [make_referral(
        factory, caseworker, age=rng.randint(8, 18), gender=rng.choice(GENDERS), pregnant=rng.random() < 0.2,
        children_with=rng.choice([0, 0, 0, 1]), substance_use=rng.choice(SUBSTANCE_USE),
        medical_level=rng.randint(0, 3), mental_health_level=rng.randint(0, 3),
        programs=rng.sample(PROGRAMS, rng.choice([0, 0, 1, 2])), icpc_approved_states=rng.choice([[], [], ["KS"]]),
        max_distance_km=rng.choice([None, None, 60.0, 150.0]))
        for _ in range(referrals)]


def test_needs_a_bed_finds_an_eligible_home_exactly_when_the_search_lists_one(app, factory):
    """`with_eligible_home` (one read for all referrals, stopping at the first home a rule
    accepts) against each referral's own full search, on random homes and referrals."""
    rng = random.Random(16)
    referrals = _random_world(factory, rng, homes=30, referrals=40)
    with app.app_context():
        found = search_service.with_eligible_home(factory.session, referrals)
        listed = {r.id for r in referrals
                  if (result := search_service.search(factory.session, r, STALE)).available or result.full}
    assert found == listed
    assert 0 < len(found) < len(referrals)  # the world has youths with and without a home


def test_a_search_reads_the_latest_figures_of_every_home(app, factory):
    """The search reads only some columns of each home's latest availability entry: a
    result still shows the newest figures, and a home that never published has none."""
    provider = factory.org("provider", "MO")
    updated = factory.home(provider, {"open_beds": 1})
    factory.home(provider, False)  # never published
    with app.app_context():
        from placement.models import AvailabilityUpdate

        factory.session.add(AvailabilityUpdate(home_id=updated.id, open_beds=4, licensed_beds=6, staff_on_duty=3,
                                               youth_per_staff=2, current_youth=1))
        factory.session.commit()
        caseworker = factory.user("caseworker", factory.org("agency", "MO"))
        result = search_service.search(factory.session, make_referral(factory, caseworker), STALE)
    by_id = {c.home.id: c for c in result.available + result.full + result.excluded}
    fresh = by_id[updated.id]
    assert (fresh.status.open_beds, fresh.room, fresh.stale) == (4, 4, False)
    assert fresh.solver_home.staff_on_duty == 3 and fresh.solver_home.youth_per_staff == 2
    [silent] = [c for c in by_id.values() if c.home.id != updated.id]
    assert silent.latest is None and silent.room == 0 and silent.stale and silent.status.updated_at is None


def test_an_id_list_condition_selects_exactly_those_rows(app, factory):
    """`among` (ids written into the statement) selects the rows a bound IN list would,
    also twice in one statement and for no ids at all."""
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    referrals = [make_referral(factory, caseworker) for _ in range(6)]
    links = [KeepApartLink(referral_a_id=referrals[i].id, referral_b_id=referrals[i + 1].id, created_by_id=caseworker.id)
             for i in (0, 2, 4)]
    factory.session.add_all(links)
    factory.session.commit()
    wanted = [referrals[1].id, referrals[2].id]
    query = select(KeepApartLink.id).where(among(KeepApartLink.referral_a_id, wanted) | among(KeepApartLink.referral_b_id, wanted))
    assert set(factory.session.exec(query).all()) == {links[0].id, links[1].id}
    assert factory.session.exec(select(Referral.id).where(among(Referral.id, []))).all() == []


def test_each_home_is_joined_to_its_newest_availability_entry_whichever_the_query_shape(app, factory):
    """`with_latest` joins the entry with the highest id (the newest published), also when
    entries of several homes interleave, and nothing to a home that never published: on
    PostgreSQL the lateral join and the newest-id join agree, row for row."""
    from placement.models import AvailabilityUpdate, Home
    from placement.services.homes import _with_latest_by_newest_id, with_latest

    provider = factory.org("provider", "MO")
    homes = [factory.home(provider, {"open_beds": 0}) for _ in range(3)] + [factory.home(provider, False)]
    rng = random.Random(6)
    for _ in range(12):
        home = rng.choice(homes[:3])
        factory.session.add(AvailabilityUpdate(home_id=home.id, open_beds=rng.randint(0, 6), licensed_beds=6,
                                               staff_on_duty=rng.randint(0, 4), youth_per_staff=3,
                                               current_youth=rng.randint(0, 6)))
        factory.session.commit()
    newest = {}
    for entry in factory.session.exec(select(AvailabilityUpdate).order_by(AvailabilityUpdate.id)).all():
        newest[entry.home_id] = (entry.open_beds, entry.staff_on_duty, entry.current_youth)
    columns = (AvailabilityUpdate.open_beds, AvailabilityUpdate.staff_on_duty, AvailabilityUpdate.current_youth)
    wanted = {home.id: newest.get(home.id, (None, None, None)) for home in homes}
    query = select(Home.id).where(Home.provider_id == provider.id)
    chosen = with_latest(factory.session, query, columns)  # lateral on PostgreSQL, which SQLite lacks
    postgres = factory.session.get_bind().dialect.name == "postgresql"
    assert ("LATERAL" in str(chosen.compile(factory.session.get_bind()))) == postgres
    for statement in (chosen, _with_latest_by_newest_id(query, columns)):
        rows = factory.session.execute(statement).all()
        assert {row[0]: tuple(row[1:]) for row in rows} == wanted, statement
    assert len(set(wanted.values())) > 2  # the homes' newest entries differ: a wrong pick would show


# A home's figures and its state: (published, open beds, staff on duty, youths per staff,
# youths there, places reserved, active); small ranges, so that beds, staff and reserved
# places each turn out the limit.
_ROOM_CASES = st.tuples(st.booleans(), st.integers(0, 8), st.integers(0, 4), st.integers(1, 4), st.integers(0, 10),
                        st.integers(0, 6), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(_ROOM_CASES, max_size=30))
def test_room_is_one_rule_for_one_home_and_for_the_search_columns(cases):
    """`room_now` (one home) and `rooms_now` (every home of a search at once, in columns)
    give the room of the home as the solver sees it: `staffed_room` of its open beds net
    of the places reserved (never below 0) and its youths counting them; none for an
    inactive home or one that never published. Also `booking.room_for_others`, which
    counts only the others' places."""
    from placement.services.booking import room_for_others
    from placement.services.homes import HomeStatus, Latest, room_now, rooms_now
    from placement.services.search import Figures

    entries, wanted = [], []
    for i, (published, beds, staff, ratio, youths, reserved, active) in enumerate(cases):
        entries.append(Latest(i, i, beds, 8, staff, ratio, youths, None, "", None) if published else None)
        wanted.append(staffed_room(max(0, beds - reserved), youths + reserved, staff, ratio)
                      if published and active else 0)
    reserved, active = [case[5] for case in cases], [case[6] for case in cases]
    assert [room_now(e, held, on) for e, held, on in zip(entries, reserved, active)] == wanted
    columns = Figures(*([getattr(e, name) if e else None for e in entries] for name in Figures._fields))
    assert rooms_now(columns, reserved, active) == wanted
    for entry, held, on, room in zip(entries, reserved, active, wanted):
        status = HomeStatus(SimpleNamespace(is_active=on), entry, held + 2)  # two places of the caller's own
        assert room_for_others(status, 2) == room
