"""`clinic-rasa`: the `rasa` command with the clinic's hardening installed.

    clinic-rasa run --model models/clinic.tar.gz --enable-api --auth-token "$RASA_AUTH_TOKEN" ...
    clinic-rasa run actions --actions actions

It installs log masking in every process, and for `run` (the Rasa server) the hardened message
processor and the HTTP guards. It refuses to start an HTTP API without authentication or a CORS
wildcard. Written for Rasa 3.6 (checked at start).
"""

from __future__ import annotations

import sys
from typing import List, Optional

SUPPORTED_RASA = "3.6."


class UnsafeConfiguration(SystemExit):
    """The server would start open to the world."""


def check_arguments(argv: List[str]) -> List[str]:
    """Refuse unsafe server arguments; split comma-separated CORS origins into an allow-list."""
    if argv[:1] != ["run"] or argv[1:2] == ["actions"]:
        return argv
    if "--enable-api" in argv and not any(
        flag in argv for flag in ("--auth-token", "-t", "--jwt-secret")
    ):
        raise UnsafeConfiguration("clinic-rasa: --enable-api needs --auth-token (or --jwt-secret).")
    for flag in ("--auth-token", "-t"):
        if flag in argv:
            index = argv.index(flag)
            if index + 1 >= len(argv) or not argv[index + 1].strip() or argv[index + 1].startswith("-"):
                raise UnsafeConfiguration("clinic-rasa: the API token is empty.")
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
    import rasa
    import rasa.core.agent
    import rasa.core.run

    if not rasa.__version__.startswith(SUPPORTED_RASA):
        raise SystemExit(f"clinic-rasa supports Rasa {SUPPORTED_RASA}x, not {rasa.__version__}.")
    from clinic.hardening import http, speedups
    from clinic.hardening.processor import HardenedMessageProcessor

    speedups.install()

    # The agent builds its processor from this name when it loads the model.
    rasa.core.agent.MessageProcessor = HardenedMessageProcessor
    configure_app = rasa.core.run.configure_app

    def hardened_configure_app(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        app = configure_app(*args, **kwargs)
        http.install(app)
        return app

    rasa.core.run.configure_app = hardened_configure_app


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of `clinic-rasa`."""
    argv = check_arguments(list(sys.argv[1:] if argv is None else argv))
    install(server=argv[:1] == ["run"] and argv[1:2] != ["actions"])
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *argv]
    rasa_main()


if __name__ == "__main__":
    main()
