"""One real assistant (action server + Rasa server) shared by the integration tests."""

import pytest

from tests.integration.servers import RunningAssistant


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    running = RunningAssistant(workdir=tmp_path_factory.mktemp("assistant")).start()
    yield running
    running.stop()
