"""clinic.testing.servers.stop_process: how every server a test starts is stopped."""

import signal
import subprocess
import sys
import time

from clinic.testing.servers import stop_process

IGNORES_SIGTERM = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                   "print('ready', flush=True); time.sleep(60)")


def test_a_process_is_asked_to_stop_first():
    process = subprocess.Popen(["sleep", "60"])
    stop_process(process)
    assert process.returncode == -signal.SIGTERM


def test_a_process_that_will_not_stop_is_killed_after_the_timeout():
    process = subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.PIPE)
    assert process.stdout.readline() == b"ready\n"  # its SIGTERM handler is in place
    started = time.monotonic()
    stop_process(process, timeout=0.5)
    assert process.returncode == -signal.SIGKILL and time.monotonic() - started < 10
    process.stdout.close()


def test_a_process_that_already_exited_is_fine():
    process = subprocess.Popen(["true"])
    process.wait()
    stop_process(process)
    assert process.returncode == 0
