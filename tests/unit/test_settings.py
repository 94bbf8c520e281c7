"""The one settings object: the only reader of the environment, documented in the README, read as before."""

import re
import subprocess

import pytest

from clinic.config import PROJECT_ROOT, Settings, get_settings
from tests.conftest import ROOT

ENVIRONMENT_READS = re.compile(r"\bos\.environ\b|\b(?:os\.)?(?:getenv|putenv|unsetenv)\b|from os import")
# Documented variables the clinic's Python does not read: the run scripts' own (their defaults are checked
# against the scripts) and the tests'.
TESTS_ONLY = {"TEST_POSTGRES_URL"}
TABLE_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \| (.*) \|$")


# clinic/testing/ starts the servers tests and benchmarks run: it builds child processes' environments
# (the test run's own, with the test stores and ports over it), which is not reading a setting. It goes
# through clinic.config.child_environment() today, but may handle an environment mapping as it needs.
ENVIRONMENT_BUILDERS = ("clinic/testing/",)


def test_only_the_settings_module_reads_the_environment():
    readers = sorted(
        name
        for folder in ("clinic", "actions")
        for path in (ROOT / folder).rglob("*.py")
        if not (name := str(path.relative_to(ROOT))).startswith(ENVIRONMENT_BUILDERS)
        and ENVIRONMENT_READS.search(path.read_text(encoding="utf-8"))
    )
    assert readers == ["clinic/config.py"]


def readme_variables():
    """{variable: its default cell} from every `| variable | default |` table of the README."""
    found, in_table = {}, False
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| variable | default |"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and (row := TABLE_ROW.match(line)):
            assert row.group(1) not in found, f"{row.group(1)} is in the README twice"
            found[row.group(1)] = row.group(2)
    return found


def shown(value):
    """A default as the README writes it."""
    if isinstance(value, float):
        value = f"{value:g}"
    return str(value).replace(str(PROJECT_ROOT), "$PWD")


def script_default(variable):
    """The `${VARIABLE:-default}` of the run scripts (None if no script reads the variable)."""
    for path in sorted((ROOT / "scripts").glob("*.sh")):
        match = re.search(r"\$\{" + variable + r":-([^}]*)\}", path.read_text(encoding="utf-8"))
        if match:
            return match.group(1)
    return None


def documents(cell, default):
    """Whether the README's cell starts with the default (empty ones say empty, unset or random)."""
    if default in ("", "None"):
        return cell.startswith(("empty", "unset", "random"))
    return re.match(r"(`?)" + re.escape(default) + r"\1(?=$|[ ;,(])", cell) is not None


def test_the_readme_lists_every_setting_with_its_default():
    readme = readme_variables()
    defaults = Settings.from_env({})
    for variable, field in Settings.variables().items():
        assert variable in readme, f"{variable} is missing from the README's tables"
        default = shown(getattr(defaults, field))
        assert documents(readme[variable], default), (variable, default, readme[variable])


def test_the_readme_lists_only_variables_something_reads():
    tests_text = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("*.py"))
    for variable, cell in readme_variables().items():
        if variable in Settings.variables():
            continue
        if variable in TESTS_ONLY:
            assert variable in tests_text and cell.startswith("tests only"), variable
            continue
        default = script_default(variable)
        assert default is not None, f"the README documents {variable}, which nothing reads"
        assert documents(cell, default.strip('"')), (variable, default, cell)


def test_defaults_and_checks_are_kept():
    read = Settings.from_env
    assert read({}).rasa_url == "http://localhost:5005"
    assert read({"RASA_PORT": "6005"}).rasa_url == "http://localhost:6005"
    assert read({"RASA_URL": " http://rasa:5005 "}).rasa_url == "http://rasa:5005"
    assert read({"DATABASE_URL": "  "}).database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'clinic.db'}"
    assert read({"WEB_PORT": "8100"}).rasa_cors == "http://localhost:8100 http://127.0.0.1:8100"
    assert read({"ACTION_SERVER_PORT": "6055"}).action_endpoint_url == "http://127.0.0.1:6055/webhook"
    # Clamps.
    assert read({"OUTBOX_MAX_ATTEMPTS": "0"}).outbox_max_attempts == 1
    assert read({"OUTBOX_CLAIM_TIMEOUT_SECONDS": "5"}).outbox_claim_timeout_seconds == 30
    assert read({"WORKER_POLL_SECONDS": "0.1"}).worker_poll_seconds == 0.5
    assert read({"WAITLIST_HOLD_MINUTES": "-3"}).waitlist_hold_minutes == 1
    assert read({"TWILIO_SEND_ATTEMPTS": "0"}).twilio_send_attempts == 1
    # The console's numbers and switch fall back to their defaults.
    staff = read({"STAFF_SESSION_MINUTES": "ten", "STAFF_PASSWORD_CHECKS": "0",
                  "STAFF_INBOX_REFRESH_SECONDS": "-1", "STAFF_COOKIE_SECURE": "maybe"}).staff()
    assert (staff.session_minutes, staff.password_checks, staff.inbox_refresh_seconds) == (480, 4, 30)
    assert staff.cookie_secure is None and staff.secret_key  # a throw-away key
    assert [read({"STAFF_COOKIE_SECURE": v}).staff_cookie_secure for v in (" Yes", "on", "0", "OFF")] == [
        True, True, False, False]
    # So do the Rasa server's limits; an empty rate switches the limit off (Rate.parse), as before.
    guards = read({"MAX_MESSAGE_CHARS": "lots", "ACTION_TIMEOUT_SECONDS": "", "RATE_LIMIT_PER_IP": ""})
    assert (guards.max_message_chars, guards.action_timeout_seconds) == (2000, 10.0)
    assert guards.rate_limit_per_ip == ""
    assert read({"MAX_MESSAGE_CHARS": "1e3"}).max_message_chars == 1000
    assert read({"CLINIC_PHONE_REGION": " fr "}).clinic_phone_region == "FR"
    proxies = read({"RATE_LIMIT_TRUSTED_PROXIES": " 10.0.0.1, ,10.0.0.2"}).trusted_proxies
    assert proxies == ["10.0.0.1", "10.0.0.2"]
    assert [read({"REST_CHANNEL": v}).rest_channel_enabled for v in ("", "on", " Disabled ", "no")] == [
        True, True, False, False]
    # Other numbers that are not numbers stop the process, as before.
    for variable in ("WEB_PORT", "WEB_MAX_BODY_BYTES", "REMINDER_HOURS_BEFORE", "OUTBOX_MAX_ATTEMPTS",
                     "TWILIO_TIMEOUT_SECONDS", "MAX_REQUEST_BYTES"):
        with pytest.raises(ValueError):
            read({variable: "many"})


def test_the_process_settings_follow_the_environment(monkeypatch):
    monkeypatch.setenv("WAITLIST_HOLD_MINUTES", "45")
    first = get_settings()
    assert first.waitlist_hold_minutes == 45 and get_settings() is first  # read once
    monkeypatch.setenv("WAITLIST_HOLD_MINUTES", "50")
    assert get_settings().waitlist_hold_minutes == 50
    assert get_settings({"WAITLIST_HOLD_MINUTES": "7"}).waitlist_hold_minutes == 7


def test_secrets_stay_out_of_the_settings_repr():
    settings = Settings.from_env({"RASA_AUTH_TOKEN": "s3cret-token", "STAFF_SECRET_KEY": "s3cret-key"})
    assert "s3cret" not in repr(settings)


def test_the_shell_gets_the_settings_it_needs(tmp_path):
    environment = {"PATH": "/usr/bin:/bin", "WEB_PORT": "8100", "RASA_CORS": "https://a.example https://b.example",
                   "DATABASE_URL": "sqlite:///it's here.db"}
    script = (f'eval "$({ROOT / ".venv/bin/python"} -m clinic.config --export)"; '
              'printf "%s|" "$WEB_PORT" "$RASA_CORS" "$DATABASE_URL" "$RASA_URL" "$ACTION_ENDPOINT_URL"')
    out = subprocess.run(["bash", "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.split("|")[:5] == ["8100", "https://a.example https://b.example", "sqlite:///it's here.db",
                                  "http://localhost:5005", "http://127.0.0.1:5055/webhook"]
