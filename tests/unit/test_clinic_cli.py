"""`clinic` on a database that isn't there or isn't set up: a clear message and exit code 2, no traceback."""

from clinic.cli import main


def test_an_unmigrated_database_gets_a_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["bookings", "list"]) == 2
    err = capsys.readouterr().err
    assert "can't be used: no such table" in err and "clinic db upgrade" in err and "Traceback" not in err


def test_an_unreachable_database_is_named_without_its_password(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://clinic:s3cret@127.0.0.1:9/clinic")
    assert main(["schedule", "show"]) == 2
    err = capsys.readouterr().err
    assert "postgresql://clinic:***@127.0.0.1:9/clinic" in err and "s3cret" not in err
