"""Secrets: .env readable by its owner only, and no token on any process's command line."""

import os
import shutil
import stat
import subprocess

import pytest

from clinic.testing.servers import ACTION_TOKEN, API_TOKEN, ROOT, TWILIO_TEST_TOKEN
from tests.security.servers import process_command_lines

pytestmark = pytest.mark.integration


def source_env_sh(workdir, existing=None):
    (workdir / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "env.sh", workdir / "scripts" / "env.sh")
    (workdir / ".venv").symlink_to(ROOT / ".venv")
    if existing is not None:
        (workdir / ".env").write_text(existing)
        os.chmod(workdir / ".env", 0o644)
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_TOKEN", "_SECRET_KEY"))}
    subprocess.run(["bash", "-c", "source scripts/env.sh"], cwd=workdir, env=env, check=True,
                   capture_output=True, timeout=60)
    return workdir / ".env"


def test_env_file_is_created_for_its_owner_only(tmp_path):
    dotenv = source_env_sh(tmp_path)
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    text = dotenv.read_text()
    for name in ("RASA_AUTH_TOKEN=", "STAFF_SECRET_KEY=", "ACTION_SERVER_TOKEN="):
        assert name in text


def test_an_existing_world_readable_env_file_is_made_private(tmp_path):
    dotenv = source_env_sh(tmp_path, existing="RASA_AUTH_TOKEN=kept\n")
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    assert "RASA_AUTH_TOKEN=kept" in dotenv.read_text()


def test_ps_shows_no_token_of_the_running_servers(assistant):
    lines = process_command_lines()
    ours = {pid: args for pid, args in lines.items() if "clinic-rasa" in args}
    assert len(ours) >= 2, lines  # the Rasa server and the action server are running
    for token in (API_TOKEN, ACTION_TOKEN, TWILIO_TEST_TOKEN):
        assert not any(token in args for args in lines.values()), token
    # and the token really is in use: Rasa answers with it
    import httpx

    assert httpx.get(f"{assistant.url}/status", params={"token": API_TOKEN}, timeout=30).status_code == 200


def test_no_launcher_puts_a_secret_on_a_command_line():
    """make run, make run-scaled, the systemd units: tokens come from the environment only."""
    launchers = [*(ROOT / "scripts").glob("*.sh"), *(ROOT / "deploy").rglob("*.service"), ROOT / "Makefile"]
    assert len(launchers) > 3
    for path in launchers:
        text = path.read_text()
        for flag in ("--auth-token", "--jwt-secret", " -t $", "token=$RASA_AUTH_TOKEN\" "):
            assert flag not in text, (path, flag)
