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

from enum import Enum
from typing import Iterable, Optional


class TriageResult(str, Enum):
    """The outcome of a triage, as stored in the `triage_result` slot."""

    MILIA = "milia"
    PUSTULE = "pustule"
    UNCERTAIN = "uncertain"
    URGENT = "urgent"


HARDNESS_VALUES = ("hard", "soft", "unsure")
FLUID_VALUES = ("yes", "no", "unsure")
LOCATION_VALUES = (
    "eye_area", "nose", "cheek", "forehead", "chin", "lip_mouth", "neck", "body", "other",
)
RED_FLAG_VALUES = (
    "bleeding",
    "fast_growth",
    "colour_change",
    "spreading_redness",
    "fever",
    "severe_pain",
    "vision_changes",
    "swollen_eye",
)


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
    if hardness == "hard" and fluid == "no":
        return TriageResult.MILIA
    if hardness == "soft" and fluid == "yes":
        return TriageResult.PUSTULE
    return TriageResult.UNCERTAIN
