"""Walking every route as every actor, for the security and audit tests.

The world and the actors are the access sweep's (tests/placement/access_table.py):
a route gets its URL values from `build_world` once it has a row in the sweep's
TABLE. Routes without a row are left to the sweep, which fails for them.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from placement.models import AuditEvent

from ..helpers import login
from .access_table import ACTORS, ALLOWED, ANONYMOUS, TABLE, actor_user, build_world

__all__ = ["ACTORS", "ALLOWED", "ANONYMOUS", "TABLE", "build_world", "swept_rules", "path_for", "actor_client",
           "visitor", "fingerprint", "last_audit_id", "audit_since", "allowed_actor", "Cast"]


class Cast:
    """The people most security and audit cases need: an operator with a home (4 open
    beds, 3 staff on duty), a caseworker of an agency and an admin who may read the audit log."""

    def __init__(self, app, factory):
        self.app, self.factory = app, factory
        self.provider = factory.org("provider")
        self.operator = factory.user("operator", self.provider)
        self.home = factory.home(self.provider, licensed_beds=6, availability={"open_beds": 4, "staff_on_duty": 3, "current_youth": 0})
        self.caseworker = factory.user("caseworker", factory.org("agency"))
        self.admin = factory.user("admin", can_view_audit=True)


def swept_rules(app, method: str):
    """The rules answering `method` that have a row in the sweep's table, in table order."""
    order = list(TABLE)
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint in TABLE and method in rule.methods]
    return sorted(rules, key=lambda rule: (TABLE[rule.endpoint].last, order.index(rule.endpoint)))


def path_for(app, rule, ids: dict, **override) -> str:
    """The URL of `rule` with the world's values (or `override`) for its arguments."""
    row = TABLE[rule.endpoint]
    values = {name: override.get(name, ids[row.args.get(name, name)]) for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def allowed_actor(rule) -> str:
    """The first actor the sweep lets through `rule` (anonymous for public routes);
    the first signed-in actor where nobody is "allowed" (signing out)."""
    expect = TABLE[rule.endpoint].expect
    # "HTTP 422": let through, then refused by the form (a file upload the sweep cannot send).
    return next((actor for actor in ACTORS if expect[actor] in (ALLOWED, "HTTP 422")), ACTORS[1])


class Visitor:
    """One actor's browser session and, for /api/ routes, the same user's API token."""

    def __init__(self, client, token: str | None):
        self.client, self.token = client, token

    def get(self, rule, path: str):
        """GET `path` as this actor; the answer is read and closed (a streamed CSV ends its transaction)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token and rule.rule.startswith("/api/") else {}
        with self.client.get(path, headers=headers) as response:
            response.get_data()
        return response


def visitor(app, factory, world, actor: str, **environ) -> Visitor:
    """`actor` signed in (none for anonymous), with an API token when the app has an API."""
    client = app.test_client()
    client.environ_base.update(environ)
    token = None
    if actor != ANONYMOUS:
        user = actor_user(factory, world, actor)
        login(client, user)
        if any(rule.rule.startswith("/api/") for rule in app.url_map.iter_rules()):
            from ..helpers import api_token

            token = api_token(factory, user)
            factory.session.commit()
    return Visitor(client, token)


def actor_client(app, factory, world, actor: str, **environ):
    """A test client signed in as `actor` (none for anonymous)."""
    return visitor(app, factory, world, actor, **environ).client


# Bookkeeping a read may write: when an API token was last used (once a minute at most).
READ_BOOKKEEPING = {("api_token", "last_used_at")}


def fingerprint(factory) -> dict[str, list]:
    """Every row of every table except the audit log: equal fingerprints mean nothing changed."""
    factory.session.commit()  # a new snapshot: see what the app committed
    connection = factory.session.connection()
    inspector = sa.inspect(connection)
    rows = {}
    for table in inspector.get_table_names():
        if table in ("audit_event", "alembic_version"):
            continue
        columns = [c["name"] for c in inspector.get_columns(table) if (table, c["name"]) not in READ_BOOKKEEPING]
        listed = ", ".join(f'"{c}"' for c in columns)
        rows[table] = sorted(map(repr, connection.execute(sa.text(f'SELECT {listed} FROM "{table}"')).all()))
    return rows


def last_audit_id(factory) -> int:
    factory.session.commit()
    return factory.session.exec(select(sa.func.max(AuditEvent.id))).one() or 0


def audit_since(factory, after_id: int) -> list[AuditEvent]:
    """Audit events written after `after_id`, oldest first."""
    factory.session.commit()
    return list(factory.session.exec(select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id)).all())
