"""The `safebed` commands: demo world, organisations and users."""
from __future__ import annotations

from sqlmodel import func, select

from placement import demo
from placement.models import Home, Organisation, User
from placement.services.homes import statuses


def test_seed_demo_is_idempotent_and_complete(factory, runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert demo.DEMO_PASSWORD in first.output
    for role in ("operator", "caseworker", "coordinator", "admin"):
        assert f"  {role}" in first.output
    session = factory.session
    counts = lambda: (session.exec(select(func.count(Home.id))).one(), session.exec(select(func.count(User.id))).one())  # noqa: E731
    before = counts()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert counts() == before
    homes = session.exec(select(Home)).all()
    assert len(homes) >= 40
    assert {h.program for h in homes} == {"crisis_stabilization", "short_term", "long_term", "transitional", "therapeutic_foster"}
    assert {h.state for h in homes} >= {"MO", "KS", "IL"}
    orgs = session.exec(select(Organisation)).all()
    assert sum(o.kind == "provider" for o in orgs) >= 12
    assert sum(o.kind == "agency" for o in orgs) >= 6
    coordinators = session.exec(select(User, Organisation).join(Organisation).where(User.role == "coordinator")).all()
    assert {org.state for _, org in coordinators} >= {"MO", "KS", "IL"}
    all_status = statuses(session, homes)
    assert any(s.is_stale(24) for s in all_status) and any(not s.is_stale(24) for s in all_status)
    assert all("(synthetic)" in h.street_address for h in homes)


def test_demo_is_deterministic(tmp_path):
    from sqlmodel import Session

    from placement import migrate
    from placement.database import make_engine

    worlds = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.sqlite3"
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            demo.seed(session, seed=7)
            worlds.append(session.exec(select(Home.name, Home.city, Home.licensed_beds, Home.genders).order_by(Home.id)).all())
        engine.dispose()
    assert worlds[0] == worlds[1] and len(worlds[0]) >= 40


def test_create_org_and_user(factory, runner):
    result = runner.invoke(args=["create-org", "--name", "CLI Agency", "--kind", "agency", "--state", "ks"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-user", "--organisation", "CLI Agency", "--email", "cli@test.example", "--role", "caseworker"],
                           input="a long enough passphrase\na long enough passphrase\n")
    assert result.exit_code == 0, result.output
    user = factory.session.exec(select(User).where(User.email == "cli@test.example")).one()
    assert user.role == "caseworker"
    refused = runner.invoke(args=["create-user", "--organisation", "CLI Agency", "--email", "c2@test.example", "--role", "operator"],
                            input="a long enough passphrase\na long enough passphrase\n")
    assert refused.exit_code != 0 and "provider organisation" in refused.output
    weak = runner.invoke(args=["create-user", "--organisation", "CLI Agency", "--email", "c3@test.example", "--role", "caseworker"],
                         input="short\nshort\n")
    assert weak.exit_code != 0
