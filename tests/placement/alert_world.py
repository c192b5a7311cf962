"""The small world the escalation and alert-page tests share (all synthetic)."""
from __future__ import annotations


def coordination_world(factory) -> dict:
    """One provider with two homes in MO, a caseworker, the state's coordinator and an admin."""
    provider = factory.org("provider", "MO", name="Harbor Light")
    return {
        "provider": provider,
        "operator": factory.user("operator", provider),
        "home": factory.home(provider, name="Willow House 1"),
        "second": factory.home(provider, name="Willow House 2"),
        "caseworker": factory.user("caseworker", factory.org("agency", "MO")),
        "coordinator": factory.user("coordinator", factory.org("coordinator_office", "MO")),
        "admin": factory.user("admin"),
    }
