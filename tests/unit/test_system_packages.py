"""scripts/system-packages.sh: what `make run` and `make test` call first to get their Debian packages."""

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "system-packages.sh"
PACKAGES = ["postgresql", "redis-server", "chromium", "nginx", "openssl", "curl", "systemd"]


def run_as_user(*args: str, env: dict) -> subprocess.CompletedProcess:
    """Run the script as an ordinary user (`nobody` when we are root, as CI is)."""
    command = [str(SCRIPT), *args]
    if os.getuid() == 0:
        command = ["runuser", "-u", "nobody", "--", *command]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


@pytest.fixture
def bare_machine():
    """An empty directory posing as the machine's root, readable by an ordinary user."""
    with tempfile.TemporaryDirectory(prefix="bare-machine-") as directory:
        os.chmod(directory, 0o755)
        yield Path(directory)


def test_this_machine_has_every_package_the_makefile_installed():
    done = subprocess.run([str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_on_a_bare_machine_an_ordinary_user_gets_the_exact_command_and_a_failure(bare_machine):
    done = run_as_user(env={"SYSTEM_PACKAGES_ROOT": str(bare_machine)})
    assert done.returncode == 1
    command = done.stderr.strip().splitlines()[-1].strip()
    assert command == (
        "sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
        + " ".join(PACKAGES) + "'"
    )


def test_only_the_missing_packages_are_named(bare_machine):
    for present in ["usr/bin/chromium", "usr/sbin/nginx", "usr/lib/postgresql/15/bin/initdb"]:
        (bare_machine / present).parent.mkdir(parents=True, exist_ok=True)
        (bare_machine / present).touch()
    done = run_as_user("--check", env={"SYSTEM_PACKAGES_ROOT": str(bare_machine)})
    assert done.returncode == 1
    assert done.stderr.strip() == "Missing Debian packages: redis-server openssl curl systemd"
