#!/usr/bin/env bash
# `make run-scaled`: the production shape on one machine, under supervisord. nginx (deploy/nginx, the same
# configuration as production, rendered into var/nginx/) on PROXY_PORT (8080, HTTP) and PROXY_TLS_PORT
# (8443, a self-signed certificate made here) in front of RASA_INSTANCES Rasa servers (default 2, ports
# RASA_PORT, RASA_PORT+1, ...) sharing PostgreSQL (tracker store and clinic database) and Redis (lock store);
# one action server; the web app. Configured by the environment: TRACKER_STORE_URL, DATABASE_URL
# (postgresql://...), LOCK_STORE_URL (redis://...); those left unset get a private PostgreSQL / Redis started
# here (Debian's packages, data in /tmp/clinic-scaled-pg.*, thrown away on exit). Every process is restarted when it
# exits, logs in var/log/ (VAR_DIR moves var/log, var/supervisor, var/nginx, var/scaled); Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
instances=${RASA_INSTANCES:-2}
var_dir=${VAR_DIR:-$PWD/var}
proxy_host=${PROXY_HOST:-127.0.0.1}
proxy_port=${PROXY_PORT:-8080}
proxy_tls_port=${PROXY_TLS_PORT:-8443}
mkdir -p "$var_dir/scaled"
supervisord_pid=""
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$supervisord_pid" ]; then kill -TERM "$supervisord_pid" 2>/dev/null || true; wait "$supervisord_pid" || true; fi
  if [ -n "${pg_dir:-}" ]; then scripts/postgres.sh stop "$pg_dir" >/dev/null 2>&1 || true; rm -rf "$pg_dir"; fi
}
trap cleanup INT TERM EXIT

if [ -z "${TRACKER_STORE_URL:-}" ] || [ -z "${DATABASE_URL:-}" ]; then
  # In /tmp: as root the server runs as `postgres`, which may not enter the project's directory.
  pg_dir=$(mktemp -d /tmp/clinic-scaled-pg.XXXXXX)
  echo "$pg_dir" >"$var_dir/scaled/postgres-dir"
  server=$(scripts/postgres.sh start "$pg_dir")
  for database in clinic clinic_tracker; do psql -q "$server" -c "CREATE DATABASE $database"; done
  export DATABASE_URL=${DATABASE_URL:-${server%/*}/clinic}
  export TRACKER_STORE_URL=${TRACKER_STORE_URL:-${server%/*}/clinic_tracker}
fi
private_redis=""
if [ -z "${LOCK_STORE_URL:-}" ]; then
  private_redis=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export LOCK_STORE_URL="redis://127.0.0.1:$private_redis/1"
fi
# Browsers reach Rasa through the proxy: the widget talks to its page's own origin, which may open the
# websocket; the per-address rate limits read the client's address from nginx's X-Forwarded-For.
web_port=$(.venv/bin/python -m clinic.config --get WEB_PORT)
export RASA_CORS=${RASA_CORS:-"http://localhost:$proxy_port http://127.0.0.1:$proxy_port \
https://localhost:$proxy_tls_port https://127.0.0.1:$proxy_tls_port http://localhost:$web_port http://127.0.0.1:$web_port"}
export RASA_PUBLIC_URL=${RASA_PUBLIC_URL:-/}
export RATE_LIMIT_TRUSTED_PROXIES=${RATE_LIMIT_TRUSTED_PROXIES:-127.0.0.1}

source scripts/env.sh
source scripts/supervisor.sh
.venv/bin/clinic db upgrade
.venv/bin/clinic schedule sync

# The proxy: a self-signed certificate for localhost (made once), the configuration rendered from deploy/.
nginx_dir=$var_dir/nginx
mkdir -p "$nginx_dir"
if [ ! -s "$nginx_dir/tls.crt" ]; then
  (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$nginx_dir/tls.key" -out "$nginx_dir/tls.crt" \
    2>/dev/null)
fi
rasa_servers=()
ports=()
for ((i = 0; i < instances; i++)); do
  ports+=("$((RASA_PORT + i))")
  rasa_servers+=(--rasa "127.0.0.1:$((RASA_PORT + i))")
done
python3 deploy/render-nginx.py --standalone "$nginx_dir" "${rasa_servers[@]}" --web "127.0.0.1:$WEB_PORT" \
  --origin "$RASA_CORS" --http-listen "$proxy_host:$proxy_port" --tls-listen "$proxy_host:$proxy_tls_port" \
  --cert "$nginx_dir/tls.crt" --key "$nginx_dir/tls.key" --serve-http --access-log "$var_dir/log/nginx-access.log"

supervisor_init "$var_dir/supervisor" "$var_dir/log"
if [ -n "$private_redis" ]; then
  supervisor_program redis /usr/bin/redis-server --port "$private_redis" --bind 127.0.0.1 --save '' --appendonly no
fi
supervisor_program actions "$PWD/.venv/bin/clinic-rasa" run actions --actions actions --port "$ACTION_SERVER_PORT"
read -ra cors_origins <<< "$RASA_CORS"
for ((i = 0; i < instances; i++)); do
  # Rasa creates the tracker tables when it starts: the first server does it alone, the others wait.
  supervisor_program "rasa-$((i + 1))" $([ "$i" = 0 ] || echo --manual) "$PWD/.venv/bin/clinic-rasa" run \
    --model models/clinic.tar.gz --endpoints endpoints.yml --credentials credentials.yml --port "${ports[$i]}" \
    --enable-api --cors "${cors_origins[@]}"
done
supervisor_program web "$PWD/.venv/bin/uvicorn" --factory clinic.web.app:create_app \
  --host "${WEB_HOST:-127.0.0.1}" --port "$WEB_PORT" --ws none --log-level warning
# One outbox worker is enough; more could run side by side (claims use FOR UPDATE SKIP LOCKED).
supervisor_program worker "$PWD/.venv/bin/clinic" worker
supervisor_program nginx /usr/sbin/nginx -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -e stderr

.venv/bin/supervisord -c "$supervisor_conf" &
supervisord_pid=$!
# The token goes to curl on stdin (-K -), not its command line, where ps would show it.
until curl -sf -K - <<<"url = \"http://localhost:${ports[0]}/status?token=$RASA_AUTH_TOKEN\"" 2>/dev/null \
    | grep -q model_file; do
  kill -0 "$supervisord_pid" 2>/dev/null || exit 1
  sleep 1
done
for ((i = 1; i < instances; i++)); do supervisorctl start "rasa-$((i + 1))" >/dev/null; done

cat <<MSG

  Vitawell assistant, scale-out profile, behind nginx (deploy/nginx, rendered into $nginx_dir):
    http://$proxy_host:$proxy_port/  and  https://$proxy_host:$proxy_tls_port/ (self-signed certificate)
    /: web app (widget demo, staff console)   /socket.io/, /webhooks/: Rasa servers on ports ${ports[*]}
  Action server on $ACTION_SERVER_PORT, web app on $WEB_PORT (not exposed by the proxy, nor Rasa's HTTP API).
  Tracker store: ${TRACKER_STORE_URL%%://*}   Clinic database: ${DATABASE_URL%%://*}   Lock store: ${LOCK_STORE_URL%%://*}
  Logs: $var_dir/log/   Processes: .venv/bin/supervisorctl -c $supervisor_conf status
  Ctrl-C stops everything.

MSG
wait "$supervisord_pid"
