"""deploy/: the nginx site in Debian's own nginx.conf, its production behaviour, and the systemd units.

Real tools from Debian's packages: `nginx -t`, a real nginx (no Rasa behind it), `systemd-analyze verify`.
The assistant behind the proxy is tested in test_proxy.py (the same template, rendered by make run-scaled).
"""

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from clinic.testing.servers import ROOT, free_port, stop_process

pytestmark = pytest.mark.integration

RENDER = ROOT / "deploy" / "render-nginx.py"
DEBIAN_NGINX_CONF = Path("/etc/nginx/nginx.conf")


def render(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["python3", str(RENDER), *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate and key (openssl), as make run-scaled makes them."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(tmp_path / "tls.key"), "-out", str(tmp_path / "tls.crt")],
        check=True, capture_output=True, timeout=60,
    )
    return ["--cert", str(tmp_path / "tls.crt"), "--key", str(tmp_path / "tls.key")]


def test_the_production_site_is_valid_inside_debians_nginx_conf(tmp_path, certificate):
    site = render("--server-name", "chat.vitawell.example", "--rasa", "127.0.0.1:5005", "--rasa",
                  "127.0.0.1:5006", "--origin", "https://chat.vitawell.example https://www.vitawell.example",
                  *certificate)
    assert site.returncode == 0, site.stderr
    (tmp_path / "vitawell").write_text(site.stdout)
    debian = DEBIAN_NGINX_CONF.read_text()
    assert "include /etc/nginx/sites-enabled/*;" in debian  # where Debian's nginx reads sites
    conf = tmp_path / "nginx.conf"
    conf.write_text(debian.replace("include /etc/nginx/sites-enabled/*;", f"include {tmp_path}/vitawell;"))
    checked = subprocess.run(["nginx", "-t", "-c", str(conf), "-e", "stderr"], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "listen 443 ssl http2;" in site.stdout and "listen 80;" in site.stdout
    assert '"https://www.vitawell.example" 1;' in site.stdout


def test_in_production_plain_http_is_redirected_and_only_the_public_paths_are_served(tmp_path, certificate):
    http_port, tls_port, web_port = free_port(), free_port(), free_port()
    prefix = tmp_path / "nginx"
    done = render("--standalone", str(prefix), "--rasa", f"127.0.0.1:{free_port()}", "--web",
                  f"127.0.0.1:{web_port}", "--origin", "https://chat.vitawell.example", "--http-listen",
                  f"127.0.0.1:{http_port}", "--tls-listen", f"127.0.0.1:{tls_port}", *certificate)
    assert done.returncode == 0, done.stderr
    nginx = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        tls = f"https://127.0.0.1:{tls_port}"
        for _ in range(100):
            try:
                httpx.get(tls, verify=False, timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        moved = httpx.get(f"http://127.0.0.1:{http_port}/webhooks/rest/webhook?x=1", timeout=5)
        assert moved.status_code == 301
        assert moved.headers["location"] == "https://127.0.0.1/webhooks/rest/webhook?x=1"
        served = httpx.get(tls + "/", verify=False, timeout=5)
        assert served.status_code == 502  # proxied to the web app (not running here)
        assert served.headers["strict-transport-security"] == "max-age=31536000"
        assert "nginx/" not in served.headers.get("server", "")  # no version
        for path in ("/model/parse", "/conversations/x/tracker", "/status", "/version", "/domain",
                     "/webhook"):
            assert httpx.post(tls + path, verify=False, timeout=5).status_code == 404, path
    finally:
        stop_process(nginx, timeout=30)


@pytest.mark.parametrize("origin", ['https://x.example" 1; default 1; "', "https://x.example/path", "*", ""])
def test_the_renderer_refuses_an_origin_that_is_not_one(origin, certificate):
    done = render("--rasa", "127.0.0.1:5005", "--origin", origin or " ", *certificate)
    assert done.returncode != 0 and "origin" in done.stderr


def test_the_systemd_units_verify(tmp_path):
    """systemd-analyze verify, with the install path (/opt/vitawell) pointing at this checkout."""
    environment = tmp_path / "vitawell.env"
    environment.write_text((ROOT / "deploy" / "vitawell.env.example").read_text())
    units = []
    for unit in sorted((ROOT / "deploy" / "systemd").iterdir()):
        text = unit.read_text().replace("/etc/vitawell/vitawell.env", str(environment))
        (tmp_path / unit.name).write_text(text.replace("/opt/vitawell", str(ROOT)))
        units.append(unit.name.replace("@.", "@5005."))
    assert {"vitawell.target", "vitawell-rasa@5005.service", "vitawell-actions.service",
            "vitawell-web.service", "vitawell-migrate.service", "vitawell-worker.service",
            "vitawell-purge.service", "vitawell-purge.timer"} <= set(units)
    done = subprocess.run(["systemd-analyze", "verify", *units], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    for name in ("vitawell-actions.service", "vitawell-web.service", "vitawell-rasa@.service",
                 "vitawell-worker.service"):
        text = (ROOT / "deploy" / "systemd" / name).read_text()
        assert re.search(r"^Restart=always$", text, re.M) and re.search(r"^RestartSec=2$", text, re.M), name
        assert "--auth-token" not in text and "RASA_AUTH_TOKEN=" not in text  # the token stays off ps
    # The target starts everything make run-scaled runs (the worker too) and the daily retention purge.
    target = (ROOT / "deploy" / "systemd" / "vitawell.target").read_text()
    for wanted in ("vitawell-actions.service", "vitawell-web.service", "vitawell-worker.service",
                   "vitawell-rasa@5005.service", "vitawell-purge.timer"):
        assert re.search(rf"^Wants=.*\b{re.escape(wanted)}", target, re.M), wanted
    timer = (ROOT / "deploy" / "systemd" / "vitawell-purge.timer").read_text()
    assert re.search(r"^OnCalendar=\S", timer, re.M) and "Persistent=true" in timer
    assert "clinic purge --older-than" in (ROOT / "deploy" / "systemd" / "vitawell-purge.service").read_text()
