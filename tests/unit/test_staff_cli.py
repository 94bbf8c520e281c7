"""`clinic staff add|list` and `clinic purge` as an operator runs them."""

import io

import pytest

from clinic.cli import main
from clinic.db.migrate import upgrade


@pytest.fixture
def env(tmp_path, monkeypatch, cheap_password_hashing):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    return monkeypatch


def test_staff_add_reads_the_password_from_stdin_when_it_is_not_a_terminal(env, capsys):
    env.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["staff", "add", "Nurse.Kim", "--role", "reviewer"]) == 0
    assert "Added nurse.kim (reviewer)." in capsys.readouterr().out
    env.setattr("sys.stdin", io.StringIO("another long password\n"))
    assert main(["staff", "add", "nurse.kim", "--role", "admin"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["staff", "list"]) == 0
    assert capsys.readouterr().out.split() == ["nurse.kim", "reviewer", "active"]


def test_staff_add_refuses_a_short_password_or_unknown_role(env, capsys):
    env.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["staff", "add", "kim", "--role", "admin"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["staff", "add", "kim", "--role", "owner"])


def test_purge_needs_a_clear_age(env, capsys):
    assert main(["purge", "--older-than", "ninety"]) == 2
    assert "not an age like 90d" in capsys.readouterr().err
    assert main(["purge", "--older-than", "90d"]) == 0
    assert "Purged data older than" in capsys.readouterr().out
