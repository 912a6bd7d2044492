"""Why a citizen goes to a person (actions/handoff.py): a pure function, no services."""

from __future__ import annotations

import pytest

from actions.handoff import OFFERED_REASONS, handoff_reason


@pytest.mark.parametrize(
    ("intent", "text", "previous", "reason"),
    [
        ("complain", "jeg vil klage over sagsbehandlingen", None, "complaint"),
        ("frustrated", "du er ubrugelig", None, "frustrated"),
        ("request_human", "du forstår mig ikke, giv mig en person", None, "frustrated"),
        ("nlu_fallback", "fnurp", "not_understood", "fallback"),
        ("ask_mitid", "hvad", "not_understood", "fallback"),
        ("request_human", "kan jeg tale med en medarbejder", None, "requested"),
        # "Ja, tal med en medarbejder" after the offer that followed two misunderstandings.
        ("request_human", "/request_human", "not_understood", "requested"),
    ],
)
def test_the_reason_for_a_handoff(
    intent: str, text: str, previous: str | None, reason: str
) -> None:
    assert handoff_reason(intent, text, previous) == reason


def test_saying_yes_to_the_offer_of_a_person_is_not_met_with_the_offer_again() -> None:
    assert handoff_reason("request_human", "/request_human", "not_understood") not in (
        OFFERED_REASONS
    )
