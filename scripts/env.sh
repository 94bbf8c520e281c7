# Sourced by scripts: configuration from the environment, with embedded defaults.
# A random API token is generated once into the git-ignored .env when RASA_AUTH_TOKEN is unset.
mkdir -p var
# .env holds secrets: readable by its owner only (0600), also when it was created before this rule.
if [ -f .env ]; then chmod 600 .env; else (umask 077 && : > .env); fi
set -a; source .env; set +a
if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  RASA_AUTH_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
  echo "RASA_AUTH_TOKEN=$RASA_AUTH_TOKEN" >> .env
  echo "No RASA_AUTH_TOKEN set: generated one into .env (git-ignored)." >&2
fi
export RASA_AUTH_TOKEN
# Signs the staff console's session cookies and derives conversation keys; generated once like the token.
if [ -z "${STAFF_SECRET_KEY:-}" ]; then
  STAFF_SECRET_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
  echo "STAFF_SECRET_KEY=$STAFF_SECRET_KEY" >> .env
  echo "No STAFF_SECRET_KEY set: generated one into .env (git-ignored)." >&2
fi
export STAFF_SECRET_KEY
# The secret Rasa sends the action server (endpoints.yml); without it the action server answers 401/403.
if [ -z "${ACTION_SERVER_TOKEN:-}" ]; then
  ACTION_SERVER_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
  echo "ACTION_SERVER_TOKEN=$ACTION_SERVER_TOKEN" >> .env
  echo "No ACTION_SERVER_TOKEN set: generated one into .env (git-ignored)." >&2
fi
export ACTION_SERVER_TOKEN
export ACTION_SERVER_HOST=${ACTION_SERVER_HOST:-127.0.0.1}   # where the action server listens
export RASA_PORT=${RASA_PORT:-5005}
export ACTION_SERVER_PORT=${ACTION_SERVER_PORT:-5055}
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTION_SERVER_PORT/webhook}
export TRACKER_STORE_URL=${TRACKER_STORE_URL:-sqlite:///$PWD/var/tracker.db}
export LOCK_STORE_URL=${LOCK_STORE_URL:-}
export WEB_PORT=${WEB_PORT:-8000}
export DATABASE_URL=${DATABASE_URL:-sqlite:///$PWD/var/clinic.db}
export CLINIC_PHONE_REGION=${CLINIC_PHONE_REGION:-GB}   # how numbers without a country code are read
export RASA_URL=${RASA_URL:-http://localhost:$RASA_PORT}
# Origins (space-separated) whose pages may talk to Rasa from a browser (the chat widget): Rasa's --cors.
export RASA_CORS=${RASA_CORS:-"http://localhost:$WEB_PORT http://127.0.0.1:$WEB_PORT"}
export SQLALCHEMY_SILENCE_UBER_WARNING=1
