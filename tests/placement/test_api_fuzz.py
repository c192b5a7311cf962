"""Schemathesis against the OpenAPI description: generated requests (valid and
invalid) to every operation, each with a token of a role the operation allows,
must never get a 5xx, and every answer must match the description."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from placement.models import Hold, PlacementRequest
from placement.timeutil import utcnow

from ..helpers import api_token, make_referral

EXAMPLES_PER_OPERATION = 12
RUN = Counter()  # operation -> examples sent; printed at the end (pytest -s) for the record
ANSWERS = Counter()  # status class -> answers (how many got past validation and access to a 2xx)


@pytest.fixture()
def api_world(app, factory) -> dict:
    """One user per role with a token, and a referral with a live hold and a pending request."""
    app.config.update(API_RATE_LIMIT="100000 per minute", MATCHER_TIME_LIMIT=2.0, MATCHER_WORKERS=1)
    provider = factory.org("provider", "MO")
    home = factory.home(provider, licensed_beds=10, availability={"open_beds": 6, "staff_on_duty": 4, "youth_per_staff": 3, "current_youth": 2})
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    referral = make_referral(factory, caseworker)
    now = utcnow()
    hold = Hold(referral_id=referral.id, home_id=home.id, created_by_id=caseworker.id, places=1,
                created_at=now, expires_at=now + timedelta(hours=4))
    other = make_referral(factory, caseworker)
    request = PlacementRequest(referral_id=other.id, home_id=home.id, requested_by_id=caseworker.id, places=1)
    factory.session.add_all([hold, request])
    factory.session.commit()
    users = {
        "operator": factory.user("operator", provider), "caseworker": caseworker,
        "coordinator": factory.user("coordinator", factory.org("coordinator_office", "MO")),
        "admin": factory.user("admin"),
    }
    tokens = {role: api_token(factory, user) for role, user in users.items()}
    tokens["any"] = tokens["caseworker"]
    ids = {"home_id": home.id, "referral_id": referral.id, "hold_id": hold.id, "request_id": request.id, "run_id": 1}
    return {"tokens": tokens, "ids": ids}


@pytest.fixture()
def api_schema(app, api_world):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_the_description(case, api_world):
    roles = case.operation.definition.raw.get("x-safebed-roles") or ["any"]
    # Half the cases use the world's real ids, so generation reaches past the 404s.
    if case.path_parameters and sum(RUN.values()) % 2 == 0:
        case.path_parameters = {name: api_world["ids"].get(name, value) for name, value in case.path_parameters.items()}
    RUN[case.operation.label] += 1
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {api_world['tokens'][roles[0]]}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
                unsupported_method],
    )
    ANSWERS[f"{response.status_code // 100}xx"] += 1


def teardown_module(_module):
    print(f"\nschemathesis: {sum(RUN.values())} examples over {len(RUN)} operations, answers {dict(ANSWERS)}: {dict(RUN)}")
