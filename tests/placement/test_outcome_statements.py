"""The outcome figures' statements, reshaped for speed (issue 16), against plain counts."""
from __future__ import annotations

from collections import Counter

from sqlmodel import select

from placement.models import MissingEpisode, Referral
from placement.services import outcomes


def test_repeat_missing_lists_each_youth_in_custody_with_two_or_more_episodes(factory, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    session = factory.session
    episodes = session.exec(select(MissingEpisode.referral_id, Referral.custody_state)
                            .join(Referral, Referral.id == MissingEpisode.referral_id)).all()
    per_youth = Counter(referral_id for referral_id, state in episodes if state == "MO")
    expected = {referral_id: count for referral_id, count in per_youth.items() if count >= 2}

    found = outcomes.repeat_missing(session, outcomes.custody_in("MO"))

    assert expected, "the demo history has youths missing more than once"
    assert {referral.id: count for referral, count in found} == expected
    assert [count for _, count in found] == sorted(expected.values(), reverse=True)
    assert outcomes.repeat_missing(session, outcomes.custody_in("ZZ")) == []
