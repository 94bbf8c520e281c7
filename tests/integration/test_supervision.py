"""`make run` under supervisord: a process that crashes is restarted while the others keep serving.

The real scripts/run.sh on free ports (clinic/testing/supervised.py); processes are killed with SIGKILL,
as a crash would end them, and Ctrl-C (SIGINT to the script's process group) must stop everything.
"""

import time

import httpx
import pytest

from clinic.testing.servers import wait_until
from clinic.testing.supervised import SupervisedRun, process_exists, service_ports
from tests.integration.chat import new_sender, texts

pytestmark = pytest.mark.integration

UNAVAILABLE = "unavailable right now"


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    ports = dict(zip(("RASA_PORT", "ACTION_SERVER_PORT", "WEB_PORT"), service_ports(3), strict=True))
    run = SupervisedRun("run.sh", tmp_path_factory.mktemp("make-run"), {k: str(v) for k, v in ports.items()})
    run.ports = ports
    run.start()
    try:
        run.wait_for(f"http://127.0.0.1:{ports['ACTION_SERVER_PORT']}/health", 300, "action server")
        run.wait_for(f"http://127.0.0.1:{ports['WEB_PORT']}/health", 300, "web app")
        run.wait_for(f"http://127.0.0.1:{ports['RASA_PORT']}/", 600, "Rasa server")
        run.wait_for(f"http://127.0.0.1:{ports['RASA_PORT']}/status?token={run.api_token}", 600, "model")
        yield run
    finally:
        run.stop()


def say(run, sender: str, text: str) -> str:
    """A REST message to the Rasa server of `make run`; the bot's texts."""
    response = httpx.post(
        f"http://127.0.0.1:{run.ports['RASA_PORT']}/webhooks/rest/webhook",
        json={"sender": sender, "message": text}, timeout=60,
    )
    response.raise_for_status()
    return texts(response.json())


def healthy(url: str) -> bool:
    """GET url answers 200 now."""
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_one_log_per_process_under_var_log(make_run):
    logs = sorted(path.name for path in (make_run.workdir / "log").iterdir())
    assert {"actions.log", "rasa.log", "web.log", "worker.log", "supervisord.log"} <= set(logs), logs
    assert "Rasa server is up and running" in make_run.log("rasa")
    assert "Action endpoint is up and running" in make_run.log("actions")
    wait_until(lambda: "Outbox worker" in make_run.log("worker"), 30, "the outbox worker's start")


def test_a_crashed_action_server_is_restarted_and_the_bot_answers_meanwhile(make_run):
    health = f"http://127.0.0.1:{make_run.ports['ACTION_SERVER_PORT']}/health"
    rasa_before, web_before = make_run.pid("rasa"), make_run.pid("web")
    sender = new_sender("supervised")
    assert "hard" in say(make_run, sender, "I have a white bump on my face").lower()

    killed = make_run.kill("actions")
    killed_at = time.monotonic()
    # While it is down (or starting): safety answers, and "unavailable" where the action server is needed.
    reply = say(make_run, new_sender("supervised"), "can I squeeze it?")
    assert "squeez" in reply.lower() and UNAVAILABLE not in reply, reply
    if not healthy(health):
        reply = say(make_run, sender, "it's hard")
        assert UNAVAILABLE in reply or healthy(health), reply  # (unless it came back meanwhile)

    make_run.wait_for(health, 30 - (time.monotonic() - killed_at), "restarted action server")
    assert make_run.pid("actions") not in (0, killed)
    assert (make_run.pid("rasa"), make_run.pid("web")) == (rasa_before, web_before)  # never stopped
    # The triage works again.
    fresh = new_sender("supervised")
    say(make_run, fresh, "I have a white bump")
    assert "fluid" in say(make_run, fresh, "it's hard").lower()
    assert "exited: actions (terminated by SIGKILL" in make_run.log("supervisord")


def test_a_crashed_web_app_is_restarted(make_run):
    health = f"http://127.0.0.1:{make_run.ports['WEB_PORT']}/health"
    killed = make_run.kill("web")
    killed_at = time.monotonic()
    assert "squeez" in say(make_run, new_sender("supervised"), "can I squeeze it?").lower()
    make_run.wait_for(health, 30 - (time.monotonic() - killed_at), "restarted web app")
    assert make_run.pid("web") not in (0, killed)
    assert "widget.js" in httpx.get(f"http://127.0.0.1:{make_run.ports['WEB_PORT']}/").text


def test_ctrl_c_stops_everything(make_run):
    programs = make_run.programs()
    assert len(programs) == 4 and all(programs), make_run.supervisorctl("status")
    assert make_run.interrupt() == 0, make_run.logs()
    assert not [pid for pid in programs if process_exists(pid)]
    for port in make_run.ports.values():
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
