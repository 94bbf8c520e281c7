"""No pattern that reads patient-controlled text backtracks: each one on 30,000 hostile characters < 50 ms.

Every compiled pattern at module level in the clinic's code is found by introspection (a new one is
timed without anyone listing it), then run with search, findall and sub over inputs built to make
a backtracking pattern go quadratic: long runs of one character class, runs that almost match.
Timed in this thread's CPU time, so a busy shared machine does not fail a linear pattern.
"""

import importlib
import pkgutil
import re
import time

import pytest

import actions
import clinic
from clinic.hardening import logmask

LENGTH = 30_000  # a backtracking pattern needs seconds here (quadratic: ~10^9 steps); a linear one ~1 ms
BUDGET_SECONDS = 0.050
UNITS = [
    "a", "A", "1", " ", ".", "_", "-", "@", "+", "a@", "a.", "1 ", "1-", "a_", "name", "name ", "my name is ",
    "'", "\"", "\n", "é", "a1", "(1", "/a", "VW-", "12:", "the 1", "+4", "00", "1.", "x@a.", ";", "{", "<",
    "hard ", "not ", "morning ",
]


def hostile_inputs():
    for unit in UNITS:
        yield f"run of {unit!r}", (unit * (LENGTH // len(unit) + 1))[:LENGTH]
        # a run that almost matches, then a character that makes the match fail at the very end
        yield f"run of {unit!r} then !", (unit * (LENGTH // len(unit)))[: LENGTH - 1] + "!"


def patterns():
    found = {}
    for package in (clinic, actions):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" in info.name or ".web" in info.name:
                continue
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if isinstance(value, re.Pattern) and value.pattern:
                    found[f"{info.name}.{name}"] = value
    return found


PATTERNS = patterns()
# Patterns the code only ever fullmatches against one value: timed with fullmatch, as they are used.
FULLMATCH_ONLY = {"clinic.masking._EMAIL"}


def test_the_log_masking_patterns_are_among_those_timed():
    for name in ("clinic.hardening.logmask.NAME_PHRASE", "clinic.hardening.logmask.NAME_FIELD",
                 "clinic.masking.EMAIL_IN_TEXT", "clinic.masking.PHONE_IN_TEXT"):
        assert name in PATTERNS


def _slowest(pattern: re.Pattern, fullmatch_only: bool = False):
    worst = (0.0, "")
    uses = (pattern.search, pattern.findall, lambda t: pattern.sub("", t))
    if fullmatch_only:
        uses = (pattern.fullmatch,)
    for label, text in hostile_inputs():
        for run in uses:
            started = time.thread_time()
            run(text)
            worst = max(worst, (time.thread_time() - started, label))
    return worst


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_every_pattern_is_linear_on_hostile_input(name):
    elapsed, label = _slowest(PATTERNS[name], name in FULLMATCH_ONLY)
    if elapsed > BUDGET_SECONDS:  # once more: a busy shared machine can stall any single run
        elapsed, label = _slowest(PATTERNS[name], name in FULLMATCH_ONLY)
    assert elapsed < BUDGET_SECONDS, f"{name} took {elapsed * 1000:.0f} ms on a {label}"


def test_masking_a_line_of_any_length_stays_within_budget():
    for label, text in hostile_inputs():
        started = time.thread_time()
        masked = logmask.mask(text * 3)  # 300,000 characters: cut before any pattern reads them
        assert time.thread_time() - started < BUDGET_SECONDS, label
        assert len(masked) < 3 * logmask.MAX_LOGGED_CHARS  # markers may be longer than what they hide


def test_capped_masking_still_masks():
    line = "patient anna.berg@example.org on +44 7911 123456 says my name is Anna Berg" + "x" * 10_000
    masked = logmask.mask(line)
    assert "anna.berg@example.org" not in masked and "7911 123456" not in masked and "Anna Berg" not in masked
    assert masked.endswith("more characters not logged]")
