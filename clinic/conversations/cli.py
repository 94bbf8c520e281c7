"""`clinic nlu export`: the labels saved on the console's Review page as Rasa NLU training data."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `clinic nlu export --out FILE`."""
    nlu = subparsers.add_parser("nlu", help="NLU training data from the console's review labels")
    nlu_sub = nlu.add_subparsers(dest="nlu_command", required=True)
    export = nlu_sub.add_parser(
        "export",
        help="write the saved labels as Rasa NLU data (placeholders for names, phone numbers and e-mails)",
    )
    export.add_argument(
        "--out",
        default="data/nlu/reviewed.yml",
        type=Path,
        help="where to write (default data/nlu/reviewed.yml: the next `make train` uses it)",
    )
    export.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from clinic.conversations.labels import export_nlu
    from clinic.db.engine import session_factory

    count = export_nlu(session_factory(), args.out)
    print(f"Wrote {count} example{'s' if count != 1 else ''} to {args.out}.")
    return 0
