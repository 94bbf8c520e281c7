"""`clinic`: the clinic's command line (database, bookings, schedule, staff, the outbox worker)."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, List, Optional

from clinic.booking.cli import register as register_booking

# Each concern adds its sub-commands with a `register(subparsers)` function listed here.
REGISTRARS: List[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    register_booking,  # bookings list/cancel/attended/no-show, schedule show/sync
]


def _register_staff(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from clinic.staff.cli import register

    register(subparsers)


REGISTRARS.append(_register_staff)


def _register_worker(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from clinic.outbox.cli import register

    register(subparsers)


REGISTRARS.append(_register_worker)  # worker [--once [--now ISO-8601]]


def _register_nlu(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from clinic.conversations.cli import register

    register(subparsers)


REGISTRARS.append(_register_nlu)


def _register_db(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = subparsers.add_parser("db", help="clinic database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply the migrations")
    upgrade.set_defaults(handler=_db_upgrade)


def _db_upgrade(_args: argparse.Namespace) -> int:
    from clinic.db.migrate import upgrade

    upgrade()
    print("Database is up to date.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full `clinic` argument parser."""
    parser = argparse.ArgumentParser(prog="clinic", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    _register_db(subparsers)
    for register in REGISTRARS:
        register(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the `clinic` console script."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (OperationalError, ProgrammingError) as error:
        # No traceback for the clinic's staff: which database, what is wrong, what to do.
        from sqlalchemy.engine import make_url

        from clinic.config import get_settings

        where = make_url(get_settings().database_url).render_as_string(hide_password=True)
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        print(f"clinic: the clinic database {where} can't be used: {reason}.\n"
              "Is it running, and set up? `clinic db upgrade` creates or updates its tables "
              "(DATABASE_URL chooses the database).", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
