#!/usr/bin/env bash
# .ci/slurm/down.sh - stop the single-node SLURM cluster started by .ci/slurm/up.sh.
#
#   sudo bash .ci/slurm/down.sh      (or: npm run slurm:down)
#
# Stops only the daemons up.sh started, found by the pid files under
# $WFC_SLURM_DIR/run (never by process name), and munged only if up.sh started it.
# Jobs still queued or running on the cluster are cancelled first, or their
# processes would outlive slurmd. Installed packages, /etc/slurm and the saved
# state ($WFC_SLURM_DIR/state, logs) stay; up.sh starts again from them.
# Safe to run when nothing is running.
set -uo pipefail

DIR=${WFC_SLURM_DIR:-/tmp/wfc-slurm}
RUN=$DIR/run
export SLURM_CONF=/etc/slurm/slurm.conf
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

say() { echo "[wfc-slurm down] $*" >&2; }

# shellcheck source=.ci/slurm/daemons.sh
source "$(dirname "$0")/daemons.sh"

[[ $(id -u) == 0 ]] || {
  say "ERROR: must run as root (the daemons run as root)"
  exit 1
}

# Cancel what is left, but only through our own controller: scancel against a dead
# one retries for about 30 s (hence the timeouts, too).
if pid_alive "$RUN/slurmctld.pid" slurmctld; then
  if [[ -n $(timeout 10 squeue -h -t PD,R,CG,CF,S -o %i 2>/dev/null) ]]; then
    say "cancelling the jobs still queued or running"
    timeout 10 scancel --full --state=RUNNING >/dev/null 2>&1
    timeout 10 scancel --state=PENDING >/dev/null 2>&1
    timeout 10 scancel --state=SUSPENDED >/dev/null 2>&1
    # slurmd must still be up to kill the job processes (KillWait=5 s)
    for _ in $(seq 50); do
      [[ -z $(timeout 5 squeue -h -t R,CG -o %i 2>/dev/null) ]] && break
      sleep 0.2
    done
  fi
fi

stop_pidfile "$RUN/slurmd.pid" slurmd
stop_pidfile "$RUN/slurmctld.pid" slurmctld
if [[ -e $RUN/munged.ours ]]; then
  stop_pidfile /run/munge/munged.pid munged
  rm -f "$RUN/munged.ours"
fi
exit 0
