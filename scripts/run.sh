#!/usr/bin/env bash
# Starts the action server (5055) and the Rasa server (5005); Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
.venv/bin/clinic db upgrade
.venv/bin/clinic schedule sync   # config/clinic.yml (or CLINIC_SCHEDULE_FILE) -> database

.venv/bin/clinic-rasa run actions --actions actions --port "$ACTION_SERVER_PORT" &
pids=($!)
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT

read -ra cors_origins <<< "$RASA_CORS"  # space-separated list, no glob expansion ("*" stays "*")
.venv/bin/clinic-rasa run --model models/clinic.tar.gz --endpoints endpoints.yml --credentials credentials.yml \
  --port "$RASA_PORT" --enable-api --cors "${cors_origins[@]}" &
pids+=($!)

# --ws none: the web app has no websockets, and Rasa pins an older `websockets` than uvicorn's default wants.
.venv/bin/uvicorn --factory clinic.web.app:create_app --host "${WEB_HOST:-127.0.0.1}" --port "$WEB_PORT" \
  --ws none --log-level warning &
pids+=($!)

cat <<MSG

  Vitawell assistant starting (the model takes about 20 s to load).
  Talk to it:   curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"me","message":"hi"}'
  socket.io:    http://localhost:$RASA_PORT (socket.io channel, path /socket.io)
  SMS/WhatsApp: POST http://localhost:$RASA_PORT/webhooks/twilio/webhook (Twilio; set TWILIO_* first, see README)
  Terminal:     make shell
  HTTP API:     http://localhost:$RASA_PORT (token in RASA_AUTH_TOKEN / .env)
  Actions:      http://localhost:$ACTION_SERVER_PORT/health
  Web app:      http://localhost:$WEB_PORT (chat widget demo page, staff console at /staff)
  Widget tag:   <script src="http://localhost:$WEB_PORT/widget.js" data-bot-url="http://localhost:$RASA_PORT"></script>
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
