"""The import graph of clinic/ and actions/ runs one way: from a higher layer down, never back up.

Layers, lowest first (a module belongs to the longest prefix listed; a module may import its own layer
and any layer below it):

1. core: the contract, configuration and pure logic, and the Rasa adapter: `clinic` (the package),
   `clinic.contract`, `clinic.config`, `clinic.settings`, `clinic.lexicon`, `clinic.findings`,
   `clinic.triage`, `clinic.safety`, `clinic.handoff`, `clinic.masking`, `clinic.rasa_adapter` (which
   imports Rasa only, so every layer may use it).
2. db: `clinic.db`, the clinic database's base, engine and the booking tables booking/ and outbox/ share.
3. domain: `clinic.booking`, `clinic.channels`, `clinic.conversations`, `clinic.staff`, `clinic.outbox`,
   `clinic.privacy`, `clinic.details`, `clinic.nlg`, `clinic.rasa_api` (the one client of Rasa's HTTP API,
   which the proactive SMS and the console share), and the guards of clinic/hardening that the channels
   share with the Rasa server (`input_guard`, `ratelimit` with the lock store's URL in `stores`, `http`:
   the Twilio channel limits and reads client addresses as the HTTP guards do). Each package owns its
   tables (`models.py`); they import one another within this layer.
4. Rasa's parts: `clinic.nlu`, `clinic.dialogue`, `clinic.hardening` (the processor, `clinic-rasa`,
   the action server's door, the log masking), `clinic.tracker_store`.
5. entry points: `clinic.web`, `clinic.cli`, `actions`, `clinic.schema` and `clinic.migrations` (every
   table, for Alembic), `clinic.testing` (the servers and fakes tests and benchmarks start).

Imports inside functions count too (they are dependencies all the same), and no module is loaded by name
("module:function" strings, `importlib.import_module`), which would hide an arrow. Besides: clinic/ never
imports actions/, and neither clinic/, actions/ nor scripts/ imports tests/ (what tests and scripts share is
in `clinic.testing`). A new module belongs to a listed prefix or the test says where to list it.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pytest

from tests.conftest import ROOT

LAYERS: List[Tuple[str, Tuple[str, ...]]] = [
    ("core", (
        "clinic", "clinic.contract", "clinic.config", "clinic.settings", "clinic.lexicon", "clinic.findings",
        "clinic.triage", "clinic.safety", "clinic.handoff", "clinic.masking", "clinic.rasa_adapter",
    )),
    ("db", ("clinic.db",)),
    ("domain", (
        "clinic.booking", "clinic.channels", "clinic.conversations", "clinic.staff", "clinic.outbox",
        "clinic.privacy", "clinic.details", "clinic.nlg", "clinic.rasa_api",
        "clinic.hardening.input_guard", "clinic.hardening.ratelimit", "clinic.hardening.http",
        "clinic.hardening.stores",
    )),
    ("rasa", (
        "clinic.nlu", "clinic.dialogue", "clinic.hardening", "clinic.tracker_store",
    )),
    ("entry points", ("clinic.web", "clinic.cli", "actions", "clinic.schema", "clinic.migrations",
                      "clinic.testing")),
]
PACKAGES = ("clinic", "actions")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(*packages: str) -> Iterator[Tuple[str, Path]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield module_name(path), path


KNOWN = {name for name, _ in modules(*PACKAGES)}


def layer_of(module: str) -> Optional[int]:
    """The index of the module's layer: its longest listed prefix."""
    best: Optional[Tuple[int, int]] = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            # `clinic` is the package's own __init__, not everything under it.
            inside = module.startswith(prefix + ".") and prefix != "clinic"
            if (module == prefix or inside) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def imported(path: Path) -> Iterator[Tuple[int, str]]:
    """(line, module) for every import in the file; `from a import b` is `a.b` when that is a module."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}" if f"{base}.{alias.name}" in KNOWN else base


@cache
def arrows() -> Tuple[Tuple[str, int, str], ...]:
    """(module, line, module it imports) for every import between modules of clinic/ and actions/."""
    return tuple(
        (name, line, target)
        for name, path in modules(*PACKAGES)
        for line, target in imported(path)
        if target.split(".")[0] in PACKAGES and target != name
    )


def test_every_module_has_a_layer():
    unplaced = sorted(name for name in KNOWN if layer_of(name) is None)
    assert not unplaced, f"list these modules in a layer of tests/unit/test_layers.py: {unplaced}"


def test_no_import_runs_from_a_lower_layer_to_a_higher_one():
    upward = []
    for source, line, target in arrows():
        low, high = layer_of(source), layer_of(target)
        if low is not None and high is not None and high > low:
            upward.append(f"{source}:{line} imports {target} ({LAYERS[low][0]} -> {LAYERS[high][0]})")
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def test_the_database_imports_nothing_above_it():
    upward = [f"{source}:{line} imports {target}" for source, line, target in arrows()
              if layer_of(source) == 1 and (layer_of(target) is None or layer_of(target) > 1)]
    assert not upward, upward


def test_no_module_is_loaded_by_name():
    """Dependencies are import statements the checker sees, never "module:function" strings loaded later."""
    by_name = re.compile(r"^(clinic|actions)(\.\w+)+:\w+$")
    # Names handed to another process, which imports them itself (not this module's dependencies).
    other_processes = {("clinic.testing.servers", "clinic.web.app:create_app")}  # uvicorn --factory
    found = []
    for name, path in modules(*PACKAGES):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and by_name.match(node.value)
                    and (name, node.value) not in other_processes):
                found.append(f"{name}:{node.lineno} {node.value}")
            if isinstance(node, ast.Attribute) and node.attr == "import_module":
                found.append(f"{name}:{node.lineno} import_module")
    assert not found, found


def test_clinic_never_imports_the_actions():
    assert not [(s, line, t) for s, line, t in arrows() if s.startswith("clinic") and t.startswith("actions")]


@pytest.mark.parametrize("package", ["clinic", "actions", "scripts"])
def test_nothing_outside_the_tests_imports_the_tests(package):
    found = [f"{module_name(path)}:{line} imports {target}"
             for _, path in modules(package) for line, target in imported(path)
             if target == "tests" or target.startswith("tests.")]
    assert not found, found


def test_the_checker_sees_arrows_up_and_down():
    """The checker itself: a known downward arrow is seen, and an upward one would be."""
    seen = {(source, target) for source, _, target in arrows()}
    assert ("clinic.findings", "clinic.lexicon") in seen
    assert layer_of("clinic.db.models") == 1 and layer_of("clinic.hardening.processor") == 3
    assert layer_of("clinic.hardening.http") == 2 and layer_of("clinic.channels.identity") == 2
    assert layer_of("clinic") == 0 and layer_of("clinic.nowhere") is None  # a new module must be placed
