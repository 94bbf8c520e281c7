"""The clinic's triage table, over every combination of answers."""

import itertools

import pytest

from clinic.triage import (
    FLUID_VALUES,
    HARDNESS_VALUES,
    RED_FLAG_VALUES,
    TriageResult,
    assess,
)

HARDNESS = (*HARDNESS_VALUES, None)
FLUID = (*FLUID_VALUES, None)


def expected(hardness, fluid, red_flags):
    if red_flags:
        return TriageResult.URGENT
    if (hardness, fluid) == ("hard", "no"):
        return TriageResult.MILIA
    if (hardness, fluid) == ("soft", "yes"):
        return TriageResult.PUSTULE
    return TriageResult.UNCERTAIN


@pytest.mark.parametrize(
    "hardness,fluid,red_flags",
    list(itertools.product(HARDNESS, FLUID, [(), ("bleeding",), ("fever", "swollen_eye")])),
)
def test_every_combination(hardness, fluid, red_flags):
    assert assess(hardness, fluid, red_flags) is expected(hardness, fluid, red_flags)


@pytest.mark.parametrize("flag", RED_FLAG_VALUES)
def test_any_red_flag_is_urgent_even_for_textbook_milia(flag):
    assert assess("hard", "no", [flag]) is TriageResult.URGENT


def test_only_hard_and_dry_is_milia():
    milia = [(h, f) for h in HARDNESS for f in FLUID if assess(h, f) is TriageResult.MILIA]
    assert milia == [("hard", "no")]


def test_results_are_the_contract_values():
    assert {r.value for r in TriageResult} == {"milia", "pustule", "uncertain", "urgent"}
