#!/usr/bin/env bash
# `make run`: the action server (5055), the Rasa server (5005), the web app (8000) and the outbox worker
# (`clinic worker`: confirmations and reminders) under supervisord.
# A process that exits is restarted within seconds while the others keep serving; one log per process in
# var/log/ (VAR_DIR=/elsewhere moves var/log and var/supervisor); Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/supervisor.sh
var_dir=${VAR_DIR:-$PWD/var}
.venv/bin/clinic db upgrade
.venv/bin/clinic schedule sync   # config/clinic.yml (or CLINIC_SCHEDULE_FILE) -> database

supervisor_init "$var_dir/supervisor" "$var_dir/log"
supervisor_program actions "$PWD/.venv/bin/clinic-rasa" run actions --actions actions --port "$ACTION_SERVER_PORT"
read -ra cors_origins <<< "$RASA_CORS"  # space-separated list, no glob expansion ("*" stays "*")
supervisor_program rasa "$PWD/.venv/bin/clinic-rasa" run --model models/clinic.tar.gz --endpoints endpoints.yml \
  --credentials credentials.yml --port "$RASA_PORT" --enable-api --cors "${cors_origins[@]}"
# --ws none: the web app has no websockets, and Rasa pins an older `websockets` than uvicorn's default wants.
supervisor_program web "$PWD/.venv/bin/uvicorn" --factory clinic.web.app:create_app \
  --host "${WEB_HOST:-127.0.0.1}" --port "$WEB_PORT" --ws none --log-level warning
# The outbox worker: confirmations, reminders and cancellations (SMS through Twilio, e-mail through SMTP_URL).
supervisor_program worker "$PWD/.venv/bin/clinic" worker

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
  Messages:     the outbox worker sends confirmations and reminders (SMTP_URL, TWILIO_*; see README)
  Logs:         $var_dir/log/{actions,rasa,web,worker}.log (supervisord.log: starts, exits, restarts)
  Processes:    .venv/bin/supervisorctl -c $supervisor_conf status
  Ctrl-C stops everything.

MSG
exec .venv/bin/supervisord -c "$supervisor_conf"
