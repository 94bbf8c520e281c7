"""Short booking references patients can read out on the phone: VW-7KM3QD.

Six characters from an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B), at least one of
them a digit: about 180 million references, random, so one reference says nothing about another.
"""

from __future__ import annotations

import re
import secrets
from typing import Optional

PREFIX = "VW"
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
LENGTH = 6
_TYPED = re.compile(r"\b(?:VW[\s\-_.:#]*)?([A-Z0-9]{6})\b")


DIGITS = "34679"


def new_reference() -> str:
    """A fresh random reference, with at least one digit and one letter (so no word is mistaken for one)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if any(c in DIGITS for c in code) and not all(c in DIGITS for c in code):
            return f"{PREFIX}-{code}"


def find_reference(text: str) -> Optional[str]:
    """The reference in what the patient typed ("my ref is vw 7km3qd" -> "VW-7KM3QD"), if any."""
    upper = (text or "").upper()[:200]
    for match in _TYPED.finditer(upper):
        code = match[1]
        if all(char in ALPHABET for char in code) and any(char in DIGITS for char in code):
            return f"{PREFIX}-{code}"
    return None
