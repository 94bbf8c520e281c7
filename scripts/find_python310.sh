#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter that actually runs (Rasa 3.6 needs Python < 3.11).
set -u
candidates=()
[ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for p in "$root"/versions/3.10*/bin/python3.10; do candidates+=("$p"); done
fi
for p in "$HOME"/.pyenv/versions/3.10*/bin/python3.10 python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  candidates+=("$p")
done
for p in "${candidates[@]}"; do
  if "$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    command -v "$p" 2>/dev/null || echo "$p"
    exit 0
  fi
done
echo "No Python 3.10 found. Rasa 3.6 needs Python 3.10: install it (for example 'pyenv install 3.10.13')" \
     "or set PYTHON310=/path/to/python3.10." >&2
exit 1
