"""`make help` lists every target the README names, each with its description."""

import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_lists_every_target_the_readme_names():
    listed = subprocess.run(["make", "-s", "--no-print-directory", "help"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    described = dict(re.findall(r"^make (\S+) +(\S.*)$", listed, re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", (ROOT / "README.md").read_text()))
    named |= set(re.findall(r"^make ([a-z][a-z-]*)", (ROOT / "README.md").read_text(), re.MULTILINE))
    assert named >= {"run", "test", "eval", "bench", "run-scaled", "help"}
    assert sorted(named - set(described)) == []
