# Sourced by scripts: loads .env and generates the secrets. Every other value, and every default, comes from
# the clinic's settings (clinic/config.py), exported here for the scripts and the processes they start.
mkdir -p var
# .env holds secrets: readable by its owner only (0600), also when it was created before this rule.
if [ -f .env ]; then chmod 600 .env; else (umask 077 && : > .env); fi
set -a; source .env; set +a
# Generated once into the git-ignored .env when unset: the HTTP API token; the key that signs the staff
# console's session cookies and derives conversation keys; the secret Rasa sends the action server
# (endpoints.yml; without it the action server answers 401/403).
for secret in RASA_AUTH_TOKEN STAFF_SECRET_KEY ACTION_SERVER_TOKEN; do
  if [ -z "${!secret:-}" ]; then
    printf -v "$secret" %s "$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    echo "$secret=${!secret}" >> .env
    echo "No $secret set: generated one into .env (git-ignored)." >&2
  fi
  export "${secret?}"
done
# Ports, URLs, stores, CORS origins...: `export NAME=value` lines from the settings (defaults filled in).
settings_exports=$(.venv/bin/python -m clinic.config --export) || return 1
eval "$settings_exports"
unset secret settings_exports
