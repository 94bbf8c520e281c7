# Sourced by scripts/run.sh and scripts/run-scaled.sh: writes a supervisord configuration, one program at a
# time, and runs supervisord (from the venv, pinned in requirements.in) in the foreground.
#   supervisor_init DIR LOG_DIR       start a configuration in DIR (socket, pid file); logs in LOG_DIR
#   supervisor_program NAME [--manual] COMMAND...
#                                     a program restarted within a second or two whenever it exits; its
#                                     output (stdout + stderr) in LOG_DIR/NAME.log; --manual: started later
#                                     with `supervisorctl start NAME` (still restarted once it runs)
#   supervisorctl ARGS...             the supervisorctl of that configuration
# Children inherit this shell's environment (secrets stay out of the configuration and of `ps`).

supervisor_init() {
  supervisor_dir=$1
  supervisor_log_dir=$2
  supervisor_conf=$supervisor_dir/supervisord.conf
  mkdir -p "$supervisor_dir" "$supervisor_log_dir"
  cat >"$supervisor_conf" <<CONF
; Written by scripts/supervisor.sh at each start: do not edit.
[supervisord]
nodaemon=true
logfile=$supervisor_log_dir/supervisord.log
pidfile=$supervisor_dir/supervisord.pid
childlogdir=$supervisor_log_dir

[unix_http_server]
file=$supervisor_dir/supervisor.sock
chmod=0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$supervisor_dir/supervisor.sock
CONF
}

supervisor_program() {
  local name=$1 autostart=true word command=""
  shift
  if [ "${1:-}" = --manual ]; then autostart=false; shift; fi
  for word in "$@"; do
    word=${word//%/%%}   # supervisord expands %(...)s in its configuration
    command+=" $(printf '%q' "$word")"
  done
  cat >>"$supervisor_conf" <<CONF

[program:$name]
command=${command# }
directory=$PWD
autostart=$autostart
autorestart=true
startsecs=5
startretries=20
stopsignal=TERM
stopwaitsecs=20
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile=$supervisor_log_dir/$name.log
stdout_logfile_maxbytes=50MB
stdout_logfile_backups=5
CONF
}

supervisorctl() {
  .venv/bin/supervisorctl -c "$supervisor_conf" "$@"
}
