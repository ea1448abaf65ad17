#!/usr/bin/env bash
# .ci/slurm/up.sh - bring up a single-node SLURM cluster on this machine for wfc's
# tests (test/slurm/) and CI. Run as root; no systemd needed.
#
#   sudo bash .ci/slurm/up.sh        (or: npm run slurm:up)
#
# What it does, each step skipped when already done (so it is safe to run again):
#   1. installs Debian's slurm-wlm and munge (apt-get) if the daemons are missing;
#   2. starts munged (the authentication daemon SLURM requires);
#   3. writes /etc/slurm/slurm.conf and cgroup.conf for one node called `localhost`;
#      if they changed while our daemons run, those daemons are restarted;
#   4. starts slurmctld and slurmd (self-daemonizing, with pid files under
#      $WFC_SLURM_DIR/run, which .ci/slurm/down.sh uses to stop exactly them);
#   5. waits until the node is idle and a trivial job completes,
#      then prints one line to stdout. Progress and errors go to stderr.
#
# Written for and tested on Debian 12 (slurm-wlm 22.05.8, munge 0.5.15).
#
# Environment (all optional):
#   WFC_SLURM_MAX_ARRAY_SIZE  MaxArraySize (default 1001, SLURM's own default and
#                             what most real clusters keep: array indices 0..1000).
#                             Small on purpose, so tests can exercise wfc's splitting
#                             of big arrays cheaply.
#   WFC_SLURM_LICENSES        Licenses= line, cluster-wide named counters that jobs
#                             take with --licenses (default ftp_download_limit:3,one:1)
#   WFC_SLURM_CPUS            CPUs the node advertises (default 8, more than this
#                             2-core machine has, so that throttles such as %3 and
#                             license limits of 3 can actually be observed)
#   WFC_SLURM_DEPENDENCY_PARAMETERS  DependencyParameters (default kill_invalid_depend:
#                             a job whose dependency can never be satisfied, e.g.
#                             afterok on a failed job, is cancelled instead of
#                             pending forever). Set to "" to get SLURM's default.
#   WFC_SLURM_MIN_JOB_AGE     seconds a finished job stays visible to squeue/scontrol
#                             (default 3600)
#   WFC_SLURM_DIR             state, spool, logs and pid files (default /tmp/wfc-slurm)
#   WFC_SLURM_WAIT            seconds to wait for each startup step (default 60)
#   WFC_SLURM_OVERWRITE=1     replace a slurm.conf/cgroup.conf this script did not write
set -euo pipefail

CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
CGROUP_CONF=$CONF_DIR/cgroup.conf
NODE=localhost # fixed node name: nothing depends on this machine's host name

DIR=${WFC_SLURM_DIR:-/tmp/wfc-slurm}
RUN=$DIR/run
LOG=$DIR/log
MAX_ARRAY_SIZE=${WFC_SLURM_MAX_ARRAY_SIZE:-1001}
LICENSES=${WFC_SLURM_LICENSES:-ftp_download_limit:3,one:1}
CPUS=${WFC_SLURM_CPUS:-8}
DEP_PARAMS=${WFC_SLURM_DEPENDENCY_PARAMETERS-kill_invalid_depend}
MIN_JOB_AGE=${WFC_SLURM_MIN_JOB_AGE:-3600}
WAIT=${WFC_SLURM_WAIT:-60}

# Every client command below must talk to the cluster configured here, whatever the
# caller's environment says.
export SLURM_CONF=$CONF
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

T0=$(date +%s%N)
say() { echo "[wfc-slurm up] $*" >&2; }
die() {
  echo "[wfc-slurm up] ERROR: $*" >&2
  exit 1
}
# die_logs MESSAGE: fail and show the end of the daemons' logs, which say why.
die_logs() {
  local f
  for f in "$LOG/slurmctld.log" "$LOG/slurmd.log"; do
    [[ -s $f ]] && { echo "--- last lines of $f" >&2; tail -n 15 "$f" >&2; }
  done
  die "$*"
}
# Seconds since $1 (a `date +%s%N` value), with one decimal.
since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# ---------------------------------------------------------------- preconditions
[[ $(id -u) == 0 ]] || die "must run as root (it installs packages, writes /etc/slurm and starts daemons); try: sudo bash $0"
if ! [[ $MAX_ARRAY_SIZE =~ ^[0-9]+$ ]] || ((MAX_ARRAY_SIZE > 4000001)); then
  die "WFC_SLURM_MAX_ARRAY_SIZE must be an integer from 0 to 4000001, got '$MAX_ARRAY_SIZE'"
fi
[[ $LICENSES =~ ^[A-Za-z0-9_]+:[0-9]+(,[A-Za-z0-9_]+:[0-9]+)*$ ]] ||
  die "WFC_SLURM_LICENSES must look like name:count[,name:count...], got '$LICENSES'"
[[ $CPUS =~ ^[1-9][0-9]*$ ]] || die "WFC_SLURM_CPUS must be a positive integer, got '$CPUS'"
[[ $MIN_JOB_AGE =~ ^[0-9]+$ ]] || die "WFC_SLURM_MIN_JOB_AGE must be a number of seconds, got '$MIN_JOB_AGE'"
[[ $WAIT =~ ^[1-9][0-9]*$ ]] || die "WFC_SLURM_WAIT must be a positive number of seconds, got '$WAIT'"

# ---------------------------------------------------------------- 1. packages
have_packages() { command -v slurmctld && command -v slurmd && command -v sbatch && command -v munged; } >/dev/null
if ! have_packages; then
  command -v apt-get >/dev/null || die "slurm-wlm/munge are not installed and there is no apt-get to install them (Debian/Ubuntu only)"
  mkdir -p "$LOG"
  say "installing slurm-wlm and munge with apt-get (10-60 s; output in $LOG/apt.log)"
  t=$(date +%s%N)
  # noninteractive: no debconf questions; --no-install-recommends: only what runs the
  # cluster (the recommended slurm-wlm-plugins pulls in MySQL, PMIx, ... plugins).
  if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge; } \
    >"$LOG/apt.log" 2>&1; then
    tail -n 20 "$LOG/apt.log" >&2
    die "could not install slurm-wlm and munge with apt-get (full output in $LOG/apt.log)"
  fi
  have_packages || die "apt-get succeeded but slurmctld/slurmd/sbatch/munged are still not on PATH"
  say "installed in $(since "$t") s"
fi

mkdir -p "$RUN" "$LOG" "$DIR/state" "$DIR/spool" "$CONF_DIR"

# shellcheck source=.ci/slurm/daemons.sh
source "$(dirname "$0")/daemons.sh"
# stop_daemon NAME: stop the daemon we started, by its pid file.
stop_daemon() { stop_pidfile "$RUN/$1.pid" "$1"; }

# ---------------------------------------------------------------- 2. munge
munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if ! munge_works; then
  # Without systemd nobody creates /run/munge, and munged refuses to start without
  # its key and with loose permissions on its directories.
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  if [[ ! -s /etc/munge/munge.key ]]; then
    say "creating /etc/munge/munge.key"
    mungekey --create --keyfile=/etc/munge/munge.key
  fi
  chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
  chmod 0700 /etc/munge /var/log/munge
  chmod 0400 /etc/munge/munge.key
  chmod 0755 /run/munge
  chmod 0711 /var/lib/munge
  rm -f /run/munge/munged.pid /run/munge/munge.socket.2.lock # left by a killed munged
  say "starting munged"
  runuser -u munge -- munged || die "munged did not start (see /var/log/munge/munged.log)"
  touch "$RUN/munged.ours" # down.sh stops munged only if we started it
  for _ in $(seq 50); do
    munge_works && break
    sleep 0.1
  done
  munge_works || die "munged started but 'munge -n | unmunge' fails (see /var/log/munge/munged.log)"
fi

# ---------------------------------------------------------------- 3. configuration
# Advertising more CPUs than the machine has needs config_overrides, or slurmd
# reports the real count and the node is drained as "Low CPUs".
OVERRIDES=""
((CPUS > $(nproc))) && OVERRIDES="SlurmdParameters=config_overrides"
# RealMemory matters only to jobs that ask for --mem (which the node must be able to
# give); memory is not a consumable resource here (CR_Core).
MEM_MB=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
# Every array element and every finished job (kept MinJobAge seconds) is a job record.
MAX_JOB_COUNT=$((MAX_ARRAY_SIZE * 4 > 100000 ? MAX_ARRAY_SIZE * 4 : 100000))

NEW_CONF=$(
  cat <<EOF
# Written by wfc's .ci/slurm/up.sh: a single-node cluster for tests. Edits are overwritten.
ClusterName=wfc
SlurmctldHost=$NODE
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
# No cgroups: track job processes by parent pid, no CPU binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# A node that was down (e.g. slurmd restarted) returns to service once it registers.
ReturnToService=2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log

# Scheduling: react at once to submissions and job ends (SLURM's defaults are tuned
# for big clusters and add seconds to every small test).
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,sched_interval=2,bf_interval=1,bf_continue
${DEP_PARAMS:+DependencyParameters=$DEP_PARAMS}
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
PriorityType=priority/basic
# Reject at submission what can never run (too many CPUs, ...) instead of pending forever.
EnforcePartLimits=ALL
MaxArraySize=$MAX_ARRAY_SIZE
MaxJobCount=$MAX_JOB_COUNT
Licenses=$LICENSES

SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=10
KillWait=5
InactiveLimit=0
Waittime=0

# No slurmdbd, so no accounting (sacct says so); finished jobs stay in squeue/scontrol
# for MinJobAge seconds, and jobcomp/filetxt appends one key=value line per finished job.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG/jobcomp.log
MinJobAge=$MIN_JOB_AGE

${OVERRIDES}
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
)
# slurmd 22.05 always loads a cgroup plugin, even with proctrack/linuxproc and
# task/none; the default (autodetect) can make it exit on hosts whose cgroup mounts it
# does not expect (containers, cgroup v2 without systemd). cgroup/v1 initialises
# without touching the host's cgroups.
NEW_CGROUP_CONF="# Written by wfc's .ci/slurm/up.sh: no cgroup use, slurmd must start in any container.
CgroupPlugin=cgroup/v1"

# write_if_changed FILE TEXT: writes FILE when its content differs; says whether it did.
write_if_changed() {
  [[ -f $1 && $(cat "$1") == "$2" ]] && return 1
  printf '%s\n' "$2" >"$1"
  chmod 0644 "$1"
  say "wrote $1"
}
# Never clobber a real cluster's configuration (say, on an HPC node).
for f in "$CONF" "$CGROUP_CONF"; do
  if [[ -s $f ]] && ! grep -q "^# Written by wfc's .ci/slurm/up.sh" "$f" && [[ ${WFC_SLURM_OVERWRITE:-} != 1 ]]; then
    die "$f exists and was not written by this script; move it away, or set WFC_SLURM_OVERWRITE=1 to replace it"
  fi
done
CHANGED=0
write_if_changed "$CONF" "$NEW_CONF" && CHANGED=1
write_if_changed "$CGROUP_CONF" "$NEW_CGROUP_CONF" && CHANGED=1

# Node CPUs, licenses etc. are read at start: restart our daemons on any change.
# Queued and running jobs survive (state is saved; job steps outlive slurmd).
if ((CHANGED)) && { pid_alive "$RUN/slurmctld.pid" slurmctld || pid_alive "$RUN/slurmd.pid" slurmd; }; then
  say "configuration changed: restarting slurmd and slurmctld"
  stop_daemon slurmd
  stop_daemon slurmctld
fi

# ---------------------------------------------------------------- 4. daemons
# start_daemon NAME ARGS...: SLURM daemons fork into the background and write their pid
# file; some fatal errors (port in use, bad state) come only after the fork, so wait
# for a live pid.
start_daemon() {
  local name=$1
  shift
  rm -f "$RUN/$name.pid"
  "$name" "$@" || die_logs "$name $* exited with status $?"
  local deadline=$((SECONDS + 10))
  until pid_alive "$RUN/$name.pid" "$name"; do
    ((SECONDS < deadline)) || die_logs "$name did not start (no live process in $RUN/$name.pid)"
    sleep 0.1
  done
}
ctld_up() { timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; }

if ! pid_alive "$RUN/slurmctld.pid" slurmctld; then
  # Someone else's controller (e.g. a systemd unit) would hold the port.
  ctld_up && die "a slurmctld not started by this script answers on this machine; stop it first (e.g. systemctl stop slurmctld slurmd)"
  say "starting slurmctld"
  start_daemon slurmctld -i # -i: ignore errors in state saved by an older run
fi
deadline=$((SECONDS + WAIT))
until ctld_up; do
  pid_alive "$RUN/slurmctld.pid" slurmctld || die_logs "slurmctld died while starting"
  ((SECONDS < deadline)) || die_logs "slurmctld does not answer 'scontrol ping' after ${WAIT} s"
  sleep 0.1
done

if ! pid_alive "$RUN/slurmd.pid" slurmd; then
  say "starting slurmd"
  start_daemon slurmd -N "$NODE" # -N: this machine is node `localhost`, whatever its name
fi

# ---------------------------------------------------------------- 5. ready?
deadline=$((SECONDS + WAIT))
while :; do
  pid_alive "$RUN/slurmd.pid" slurmd || die_logs "slurmd died while starting"
  state=$(timeout 5 sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
  case $state in
    idle | mixed | allocated | completing) break ;;
    down* | drain* | fail*)
      # e.g. still marked down from an earlier run; slurmd has registered by now
      scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
      ;;
  esac
  ((SECONDS < deadline)) || {
    sinfo -N -l >&2 || true
    die_logs "node $NODE is '$state', not idle, after ${WAIT} s"
  }
  sleep 0.2
done

VERSION=$(sbatch --version | awk '{ print $2 }') # (reads slurm.conf: only now)
# A trivial job, end to end. (Not `sbatch --wait`: it polls every 2 s.)
t=$(date +%s%N)
job=$(timeout 30 sbatch --parsable --job-name=wfc-slurm-up -D "$DIR" -o /dev/null --wrap true 2>&1) ||
  die_logs "sbatch failed: $job"
deadline=$((SECONDS + WAIT))
while :; do
  job_state=$(timeout 5 squeue -h -j "$job" -t all -o %T 2>/dev/null || true)
  case $job_state in
    COMPLETED) break ;;
    FAILED | CANCELLED* | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
      die_logs "the test job $job (sbatch --wrap true) ended $job_state" ;;
  esac
  ((SECONDS < deadline)) || {
    squeue >&2 || true
    die_logs "the test job $job did not complete within ${WAIT} s (state '$job_state')"
  }
  sleep 0.1
done
echo "wfc-slurm: cluster up in $(since "$T0") s (SLURM $VERSION, node $NODE $state, CPUs=$CPUS," \
  "MaxArraySize=$MAX_ARRAY_SIZE, Licenses=$LICENSES${DEP_PARAMS:+, DependencyParameters=$DEP_PARAMS}); test job $job done in $(since "$t") s"
