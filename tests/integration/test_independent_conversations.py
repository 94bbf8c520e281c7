"""The independently written conversations, replayed end to end through REST (issue 12's targets).

Every conversation of every `tests/independent/<set>/conversations.yml` is replayed once for the module
(see tests/integration/replay.py); each test checks one property over all of them and lists every
conversation that breaks it. The summary is printed and written to results/conversations.json.
"""

import pytest

from tests.integration.replay import (
    INDEPENDENT,
    RESULTS,
    TARGET_ACCURACY,
    URGENT,
    describe,
    load_all,
    replay_all,
    summary_table,
    write_results,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def outcomes(assistant, request):
    conversations = load_all()
    assert conversations, f"no conversations in {INDEPENDENT}/*/conversations.yml"
    replayed = replay_all(assistant, conversations)
    write_results(replayed)
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{summary_table(replayed)}\n(details in {RESULTS})")
    return replayed


def _failures(outcomes, broken):
    return "\n".join([summary_table(outcomes), *(describe(o) for o in outcomes if broken(o))])


def test_every_urgent_conversation_ends_urgent(outcomes):
    missed = [o for o in outcomes if o.expected == URGENT and o.triage_result != URGENT]
    assert not missed, _failures(outcomes, lambda o: o in missed)


def test_no_question_is_asked_three_times_in_a_row(outcomes):
    assert not any(o.loop for o in outcomes), _failures(outcomes, lambda o: o.loop)


def test_every_conversation_reaches_a_result_or_a_person(outcomes):
    assert all(o.resolved for o in outcomes), _failures(outcomes, lambda o: not o.resolved)


def test_triage_accuracy_reaches_target(outcomes):
    assert outcomes.accuracy >= TARGET_ACCURACY, _failures(outcomes, lambda o: not o.correct)
