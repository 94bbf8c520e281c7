#!/usr/bin/env bash
# The Debian packages `make run` and `make test` need, installed when missing (called by the Makefile).
#   scripts/system-packages.sh          install what is missing (as root), or print the command and exit 1
#   scripts/system-packages.sh --check  only say what is missing (exit 1 if anything is)
# Each package is checked by the file the project uses from it, so a machine that has it another way
# (a non-Debian system, a hand-built nginx) is left alone. The project starts its own private servers
# from these packages (data under var/ or /tmp), never the system services.
set -euo pipefail

# package  file the project uses (first match wins; globs allowed)            used by
packages=(
  "postgresql     /usr/lib/postgresql/*/bin/initdb"   # tests, make run-scaled: private PostgreSQL servers
  "redis-server   /usr/bin/redis-server"              # lock store and shared rate limits of the scale-out profile
  "chromium       /usr/bin/chromium"                  # the widget's browser tests (Playwright drives it)
  "nginx          /usr/sbin/nginx"                    # the reverse proxy of make run-scaled and deploy/
  "openssl        /usr/bin/openssl"                   # the proxy's self-signed certificate in make run-scaled
  "curl           /usr/bin/curl"                      # readiness checks in the run scripts
  "systemd        /usr/bin/systemd-analyze"           # the tests check deploy/systemd's units with it
)

# SYSTEM_PACKAGES_ROOT: tests only, a directory the paths are looked up under (to pose as a bare machine).
root=${SYSTEM_PACKAGES_ROOT:-}
missing=()
for entry in "${packages[@]}"; do
  read -r package path <<<"$entry"
  # shellcheck disable=SC2086  # the glob in $path is meant to expand
  if ! compgen -G "$root$path" >/dev/null; then missing+=("$package"); fi
done

if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
command_line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if [ "${1:-}" = "--check" ]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing Debian packages: ${missing[*]}. Install them as root, then run make again:" >&2
  echo "  sudo sh -c '$command_line'" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" >/dev/null
