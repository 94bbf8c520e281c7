"""The shared outage of the "database down" tests: `own_postgres.down()` stops PostgreSQL and resumes it."""

import pytest

from clinic.testing.postgres import check_server

pytestmark = pytest.mark.integration


def test_the_server_is_down_inside_the_block_and_back_after_it(own_postgres):
    check_server(own_postgres.url)
    with own_postgres.down():
        with pytest.raises(RuntimeError, match="unusable"):
            check_server(own_postgres.url)
    check_server(own_postgres.url)


def test_it_is_back_after_a_block_that_failed(own_postgres):
    with pytest.raises(AssertionError), own_postgres.down():
        raise AssertionError("a test's check failed during the outage")
    check_server(own_postgres.url)
