"""Milia or pustule? The clinic's triage rules as a pure, Rasa-free table.

A clinician can read this module on its own:

==================  ===========  =========  ==========
red flag present    hardness     fluid      result
==================  ===========  =========  ==========
yes                 (any)        (any)      urgent
maybe (unclear)     (any)        (any)      urgent
no                  hard         no         milia
no                  soft         yes        pustule
no                  anything else           uncertain
==================  ===========  =========  ==========
"""

from __future__ import annotations

from typing import Iterable, Optional

from clinic.contract import Fluid, Hardness, Location, RedFlag, TriageResult

__all__ = ["FLUID_VALUES", "HARDNESS_VALUES", "LOCATION_VALUES", "RED_FLAG_VALUES", "TriageResult", "assess"]

HARDNESS_VALUES = Hardness.values()
FLUID_VALUES = Fluid.values()
LOCATION_VALUES = Location.values()
RED_FLAG_VALUES = RedFlag.values()


def assess(
    hardness: Optional[str],
    fluid: Optional[str],
    red_flags: Iterable[str] = (),
    warning_signs_unclear: bool = False,
) -> TriageResult:
    """Return the triage result for what the patient reported.

    A screening answer that stayed unclear after the question was asked again counts as a maybe-yes.
    """
    if any(flag for flag in red_flags or ()) or warning_signs_unclear:
        return TriageResult.URGENT
    if hardness == Hardness.HARD and fluid == Fluid.NO:
        return TriageResult.MILIA
    if hardness == Hardness.SOFT and fluid == Fluid.YES:
        return TriageResult.PUSTULE
    return TriageResult.UNCERTAIN
