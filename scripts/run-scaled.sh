#!/usr/bin/env bash
# The scale-out profile: RASA_INSTANCES Rasa servers (default 2, ports RASA_PORT, RASA_PORT+1, ...) share
# PostgreSQL (tracker store and clinic database) and Redis (lock store); one action server; the web app.
# Configured by the environment: TRACKER_STORE_URL, DATABASE_URL (postgresql://...), LOCK_STORE_URL
# (redis://...). Those left unset get a private PostgreSQL / Redis started here (Debian's packages, data
# in var/scaled/, thrown away on exit), so `make run-scaled` works on a laptop.
set -euo pipefail
cd "$(dirname "$0")/.."
instances=${RASA_INSTANCES:-2}
mkdir -p var/scaled
pids=()
cleanup() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "${pg_dir:-}" ]; then scripts/postgres.sh stop "$pg_dir" >/dev/null 2>&1 || true; rm -rf "$pg_dir"; fi
}
trap cleanup INT TERM EXIT

if [ -z "${TRACKER_STORE_URL:-}" ] || [ -z "${DATABASE_URL:-}" ]; then
  pg_dir=$(mktemp -d "$PWD/var/scaled/pg.XXXXXX")
  server=$(scripts/postgres.sh start "$pg_dir")
  for database in clinic clinic_tracker; do psql -q "$server" -c "CREATE DATABASE $database"; done
  export DATABASE_URL=${DATABASE_URL:-${server%/*}/clinic}
  export TRACKER_STORE_URL=${TRACKER_STORE_URL:-${server%/*}/clinic_tracker}
fi
if [ -z "${LOCK_STORE_URL:-}" ]; then
  redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >var/scaled/redis.log 2>&1 &
  pids+=($!)
  export LOCK_STORE_URL="redis://127.0.0.1:$redis_port/1"
fi

source scripts/env.sh
.venv/bin/clinic db upgrade
.venv/bin/clinic schedule sync

.venv/bin/clinic-rasa run actions --actions actions --port "$ACTION_SERVER_PORT" &
pids+=($!)
ports=()
for ((i = 0; i < instances; i++)); do
  port=$((RASA_PORT + i))
  ports+=("$port")
  .venv/bin/clinic-rasa run --model models/clinic.tar.gz --endpoints endpoints.yml \
    --credentials credentials.yml --port "$port" --enable-api \
    --cors "$RASA_CORS" &
  pids+=($!)
  # Rasa creates the tracker tables when it starts: the first server does it alone.
  if [ "$i" = 0 ]; then
    # The token goes to curl on stdin (-K -), not its command line, where ps would show it.
    until curl -sf -K - <<<"url = \"http://localhost:$port/status?token=$RASA_AUTH_TOKEN\"" 2>/dev/null \
        | grep -q model_file; do
      kill -0 "${pids[-1]}" 2>/dev/null || exit 1
      sleep 1
    done
  fi
done

.venv/bin/uvicorn --factory clinic.web.app:create_app --host "${WEB_HOST:-127.0.0.1}" --port "$WEB_PORT" \
  --ws none --log-level warning &
pids+=($!)

cat <<MSG

  Vitawell assistant, scale-out profile: Rasa on ports ${ports[*]} (put any HTTP load balancer in front;
  socket.io needs sticky sessions), one action server on $ACTION_SERVER_PORT, web app on $WEB_PORT.
  Tracker store: ${TRACKER_STORE_URL%%://*}   Clinic database: ${DATABASE_URL%%://*}   Lock store: ${LOCK_STORE_URL%%://*}
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
