#!/usr/bin/env bash
# A private, throw-away PostgreSQL server for tests (Debian's `postgresql` package, any version).
#   scripts/postgres.sh start DIR   initdb + start in DIR on a free port; prints the server's URL
#   scripts/postgres.sh stop DIR    stop it (DIR can then be removed)
#   scripts/postgres.sh resume DIR  start a stopped server again, on the same port (a "database down" test)
# As root (CI), the server runs as the `postgres` user the Debian package creates.
set -euo pipefail
cmd=${1:?usage: scripts/postgres.sh start|stop DIR}
dir=${2:?usage: scripts/postgres.sh start|stop DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL is not installed: apt-get install -y postgresql (or set TEST_POSTGRES_URL)" >&2
  exit 1
fi
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

launch() {
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $1 -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
}

case $cmd in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    launch "$port"
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  resume)
    launch "$(cat "$dir/port")"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *)
    echo "usage: scripts/postgres.sh start|stop|resume DIR" >&2
    exit 2
    ;;
esac
