# shellcheck shell=bash
# .ci/slurm/daemons.sh - pid-file helpers shared by up.sh and down.sh (sourced;
# the caller defines `say`). Daemons are found by their pid files, never by name.

# running PID: the process exists and is not a zombie. (A daemon that died stays a
# zombie until PID 1 reaps it, which in some containers takes seconds.)
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) } # after "pid (comm) ": the state letter
  [[ ${stat:0:1} != [ZX] ]]
}

pid_of() { head -n 1 "$1" 2>/dev/null | tr -dc 0-9; }

# pid_alive PIDFILE NAME: whether PIDFILE names a running process called NAME (a pid
# file left by a killed daemon may name a reused pid).
pid_alive() {
  local pid
  pid=$(pid_of "$1")
  [[ -n $pid ]] && running "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]]
}

# stop_pidfile PIDFILE NAME: SIGTERM, wait up to 10 s, then SIGKILL; removes the pid file.
stop_pidfile() {
  local f=$1 name=$2 pid
  if ! pid_alive "$f" "$name"; then
    [[ -e $f ]] && say "$name: not running (removing stale $f)"
    rm -f "$f"
    return 0
  fi
  pid=$(pid_of "$f")
  kill -TERM "$pid"
  for _ in $(seq 100); do
    running "$pid" || break
    sleep 0.1
  done
  if running "$pid"; then
    say "$name ($pid) ignored SIGTERM for 10 s: SIGKILL"
    kill -KILL "$pid"
  fi
  rm -f "$f"
  say "stopped $name ($pid)"
}
