"""`clinic staff add|list` and `clinic purge --older-than 90d`."""

from __future__ import annotations

import argparse
import getpass
import sys

from clinic.staff.models import ROLES


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `clinic staff ...` and `clinic purge ...`."""
    staff = subparsers.add_parser("staff", help="staff console accounts")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser(
        "add", help="add a staff member (password prompted, or read from stdin when it is not a terminal)"
    )
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.set_defaults(handler=_add)
    listing = staff_sub.add_parser("list", help="list staff members")
    listing.set_defaults(handler=_list)

    purge = subparsers.add_parser("purge", help="erase conversations and personal data past retention")
    purge.add_argument("--older-than", required=True, metavar="AGE", help="e.g. 90d, 12w or 48h")
    purge.set_defaults(handler=_purge)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != first:
            raise ValueError("The passwords do not match.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _add(args: argparse.Namespace) -> int:
    from clinic.db.engine import session_factory
    from clinic.staff.accounts import AccountError, create_user

    try:
        password = _read_password()
        with session_factory()() as db:
            user = create_user(db, args.username, password, args.role)
            added = f"{user.username} ({user.role})"
            db.commit()
    except (AccountError, ValueError) as error:
        print(f"Not added: {error}", file=sys.stderr)
        return 2
    print(f"Added {added}.")
    return 0


def _list(_args: argparse.Namespace) -> int:
    from clinic.db.engine import session_factory
    from clinic.staff.accounts import list_users

    with session_factory()() as db:
        for user in list_users(db):
            print(f"{user.username}\t{user.role}\t{'active' if user.active else 'disabled'}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    from clinic.config import get_settings
    from clinic.conversations.store import tracker_engine
    from clinic.db.engine import session_factory
    from clinic.privacy import parse_age, purge

    try:
        age = parse_age(args.older_than)
    except ValueError as error:
        print(f"Nothing purged: {error}", file=sys.stderr)
        return 2
    settings = get_settings()
    with session_factory(settings.database_url)() as db:
        report = purge(tracker_engine(settings.tracker_store_url), db, age)
    print(
        f"Purged data older than {report.cutoff:%Y-%m-%d %H:%M} UTC: {report.events} conversation events "
        f"({report.conversations} whole conversations), {report.clinic_records} clinic records."
    )
    return 0
