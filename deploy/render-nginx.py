#!/usr/bin/env python3
r"""Render deploy/nginx/vitawell.conf.in: the one nginx configuration (Debian's nginx, `make run-scaled`).

Production (Debian's nginx includes /etc/nginx/sites-enabled/* inside its http block):

    python3 deploy/render-nginx.py --server-name chat.vitawell.example \
        --rasa 127.0.0.1:5005 --rasa 127.0.0.1:5006 --web 127.0.0.1:8000 \
        --origin https://chat.vitawell.example --origin https://www.vitawell.example \
        --cert /etc/ssl/vitawell/fullchain.pem --key /etc/ssl/vitawell/privkey.pem \
        > /etc/nginx/sites-available/vitawell

`--standalone DIR` (scripts/run-scaled.sh) also writes DIR/nginx.conf, a whole configuration for an nginx
run in the foreground with DIR as its prefix (pid, temporary files), no system service needed.
Standard library only: it runs with the system's python3.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "vitawell.conf.in"
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
ADDRESS = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$|^\[[0-9a-fA-F:]+\]:[0-9]{1,5}$")
LISTEN = re.compile(r"^([A-Za-z0-9.-]+:|\[[0-9a-fA-F:]+\]:)?[0-9]{1,5}$")

STANDALONE = """# Written by deploy/render-nginx.py --standalone: nginx in the foreground, prefix {prefix}.
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr notice;

events {{
    worker_connections 1024;
}}

http {{
    # Which Rasa server answered and how fast (no bodies, no cookies: patients' words stay out of it).
    log_format vitawell '$scheme $remote_addr [$time_local] "$request" $status $body_bytes_sent '
                        '$request_time $upstream_addr $upstream_response_time "$http_user_agent"';
    access_log {access_log};
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    default_type application/octet-stream;
    include {prefix}/vitawell.conf;
}}
"""


def _checked(values: list[str], pattern: re.Pattern[str], what: str) -> list[str]:
    for value in values:
        if not pattern.match(value):
            raise SystemExit(f"render-nginx: not a valid {what}: {value!r}")
    return values


def render(args: argparse.Namespace) -> str:
    """The site configuration for these options."""
    origins = _checked([o for spec in args.origin for o in spec.split()], ORIGIN, "origin (scheme://host[:port])")
    rasa = _checked(args.rasa, ADDRESS, "Rasa server (host:port)")
    _checked([args.web], ADDRESS, "web app (host:port)")
    _checked([args.http_listen, args.tls_listen], LISTEN, "listen address ([host:]port)")
    if not origins or not rasa:
        raise SystemExit("render-nginx: give at least one --origin and one --rasa")
    for path in (args.cert, args.key):
        if not path or any(c in path for c in ' ;"\'{}$'):
            raise SystemExit(f"render-nginx: not a usable certificate/key path: {path!r}")
    values = {
        "ORIGIN_MAP": "\n".join(f'    "{origin}" 1;' for origin in origins),
        "RASA_SERVERS": "\n".join(f"    server {address} max_fails=1 fail_timeout=10s;" for address in rasa),
        "WEB_SERVER": args.web,
        "HTTP_LISTEN": args.http_listen,
        "TLS_LISTEN": args.tls_listen,
        "SERVER_NAME": args.server_name,
        "TLS_CERT": args.cert,
        "TLS_KEY": args.key,
        "MAX_BODY": args.max_body,
        "REDIRECT_HTTP": "1" if args.redirect_http else "0",
    }
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    left = re.findall(r"@@[A-Z_]+@@", text)
    if left:
        raise SystemExit(f"render-nginx: template placeholders without a value: {left}")
    return text


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rasa", action="append", default=[], help="a Rasa server, host:port (repeat)")
    p.add_argument("--web", default="127.0.0.1:8000", help="the web app, host:port")
    p.add_argument("--origin", action="append", default=[],
                   help="an origin allowed to open the websocket (repeat, or space-separated): RASA_CORS")
    p.add_argument("--server-name", default="_", help="nginx server_name (default: any)")
    p.add_argument("--http-listen", default="80", help="plain HTTP [host:]port (default 80)")
    p.add_argument("--tls-listen", default="443", help="HTTPS [host:]port (default 443)")
    p.add_argument("--cert", required=True, help="TLS certificate (full chain), PEM")
    p.add_argument("--key", required=True, help="its private key, PEM")
    p.add_argument("--max-body", default="256k", help="largest request body (default 256k, Rasa's limit)")
    redirect = p.add_mutually_exclusive_group()
    redirect.add_argument("--redirect-http", dest="redirect_http", action="store_true", default=True,
                          help="plain HTTP gets a redirect to HTTPS (the default)")
    redirect.add_argument("--serve-http", dest="redirect_http", action="store_false",
                          help="serve plain HTTP too (make run-scaled on localhost)")
    p.add_argument("--standalone", metavar="DIR",
                   help="write DIR/vitawell.conf and DIR/nginx.conf for a foreground nginx with prefix DIR")
    p.add_argument("--access-log", default="off", help="with --standalone: the access log file (default off)")
    return p


def main(argv: list[str] | None = None) -> None:
    """Render to stdout, or into --standalone DIR."""
    args = parser().parse_args(argv)
    site = render(args)
    if not args.standalone:
        sys.stdout.write(site)
        return
    prefix = Path(args.standalone).resolve()
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    (prefix / "vitawell.conf").write_text(site)
    access_log = "off" if args.access_log == "off" else f"{args.access_log} vitawell"
    (prefix / "nginx.conf").write_text(STANDALONE.format(prefix=prefix, access_log=access_log))


if __name__ == "__main__":
    main()
