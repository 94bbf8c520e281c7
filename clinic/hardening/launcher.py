"""`clinic-rasa`: the `rasa` command with the clinic's hardening installed.

    RASA_AUTH_TOKEN=... clinic-rasa run --model models/clinic.tar.gz --enable-api ...
    clinic-rasa run actions --actions actions

It installs log masking in every process, for `run` (the Rasa server) the hardened message
processor and the HTTP guards, and for `run actions` the action server's address and token check
(clinic.hardening.action_server). It refuses to start an HTTP API without authentication or a CORS
wildcard. The API token comes from the environment (`RASA_AUTH_TOKEN`) or a file
(`RASA_AUTH_TOKEN_FILE`), never from the command line, where `ps` would show it to every user of
the machine: the launcher hands it to Rasa inside the process. Written for Rasa 3.6 (checked at start);
what it changes in Rasa goes through clinic/rasa_adapter.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Mapping, Optional

from clinic.config import Settings, get_settings


class UnsafeConfiguration(SystemExit):
    """The server would start open to the world."""


def api_token(settings: Settings) -> str:
    """The HTTP API token: RASA_AUTH_TOKEN, else the first line of the file RASA_AUTH_TOKEN_FILE."""
    token = settings.rasa_auth_token
    path = settings.rasa_auth_token_file
    if not token and path:
        try:
            token = Path(path).read_text(encoding="utf-8").strip().splitlines()[0].strip()
        except (OSError, IndexError) as error:
            raise UnsafeConfiguration(f"clinic-rasa: cannot read RASA_AUTH_TOKEN_FILE ({error}).") from error
    return token


def check_arguments(argv: List[str], environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """Refuse unsafe server arguments; add the API token from the environment; split CORS origins.

    The returned list is what Rasa parses inside this process: a token added here never appears
    in the process's command line (`ps`).
    """
    if argv[:1] != ["run"] or argv[1:2] == ["actions"]:
        return argv
    for flag in ("--auth-token", "-t"):
        if flag in argv:
            raise UnsafeConfiguration(
                f"clinic-rasa: {flag} would show the token to every user of the machine (ps); "
                "set RASA_AUTH_TOKEN (or RASA_AUTH_TOKEN_FILE) in the environment instead."
            )
    if "--enable-api" in argv and "--jwt-secret" not in argv:
        token = api_token(get_settings(environ))
        if not token:
            raise UnsafeConfiguration(
                "clinic-rasa: --enable-api needs RASA_AUTH_TOKEN (or RASA_AUTH_TOKEN_FILE) "
                "in the environment (or --jwt-secret)."
            )
        argv = [*argv, f"--auth-token={token}"]  # "=": a token may start with "-"
    if "--cors" not in argv:
        return argv
    start = argv.index("--cors") + 1
    end = start
    while end < len(argv) and not argv[end].startswith("-"):
        end += 1
    origins = [o for value in argv[start:end] for o in value.replace(",", " ").split()]
    if "*" in origins:
        raise UnsafeConfiguration("clinic-rasa: CORS must list origins, not '*'.")
    return argv[:start] + origins + argv[end:]


def install(server: bool) -> None:
    """Install the hardening into this process (the Rasa server's parts only when `server`)."""
    from clinic.hardening import logmask

    logmask.install()
    if not server:
        return
    from clinic import rasa_adapter

    rasa_adapter.check_rasa_version()
    from clinic.hardening import http
    from clinic.hardening.processor import HardenedMessageProcessor
    from clinic.rasa_adapter import server as rasa_server
    from clinic.rasa_adapter import speedups, stores

    speedups.install()
    stores.install_strict_tracker_store()
    rasa_server.use_message_processor(HardenedMessageProcessor)
    rasa_server.on_server_app(http.install)


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of `clinic-rasa`."""
    argv = check_arguments(list(sys.argv[1:] if argv is None else argv))
    install(server=argv[:1] == ["run"] and argv[1:2] != ["actions"])
    if argv[:2] == ["run", "actions"]:
        from clinic.hardening import action_server

        action_server.install()  # 127.0.0.1 unless ACTION_SERVER_HOST; ACTION_SERVER_TOKEN required
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *argv]
    rasa_main()


if __name__ == "__main__":
    main()
