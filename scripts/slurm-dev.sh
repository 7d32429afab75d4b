#!/usr/bin/env bash
# A private Slurm cluster of N nodes on this one machine, for the tests of the Slurm executor and
# for trying it: three nodes per point that runs at once (a stream point puts guest, host and
# client each on a node of its own), named guest1, host1, client1, guest2, host2, client2, ...
# Its own config, state, ports and munge key under one directory, so it never touches (or needs)
# a system Slurm. Idempotent: `start` on a running cluster of that size only checks it (of another
# size, it is restarted with the new node list); `stop` ends exactly the daemons it started (by
# their pid files) and nothing else. Installs Debian's Slurm packages when they are missing.
#
#   scripts/slurm-dev.sh start [--nodes N]|stop|status   (N default 3; dir: $STREAMBENCH_SLURM_DIR, default /tmp/streambench-slurm)
#
# After `start`, point Slurm's commands at it with: export SLURM_CONF=<dir>/slurm.conf
set -euo pipefail

DIR="${STREAMBENCH_SLURM_DIR:-/tmp/streambench-slurm}"
# Ports away from Slurm's defaults (6817/6818), so a system cluster on this machine is not disturbed.
PORT="${STREAMBENCH_SLURM_PORT:-16817}"
CONF="$DIR/slurm.conf"
export SLURM_CONF="$CONF"
export PATH="$PATH:/usr/sbin"

die() { echo "slurm-dev: $*" >&2; exit 1; }

# The node names of a cluster of $1 nodes: guest1 host1 client1 guest2 ...
node_names() {
  local roles=(guest host client) i
  for ((i = 0; i < $1; i++)); do echo "${roles[i % 3]}$((i / 3 + 1))"; done
}

# The nodes of the cluster as configured (stop and status act on what start wrote).
conf_nodes() {
  [ -f "$CONF" ] && sed -n 's/^NodeName=\([^ ]*\) .*/\1/p' "$CONF"
}

need() {
  [ "$(id -u)" -eq 0 ] || die "must run as root: slurmd starts job processes as their users"
  local c missing=()
  for c in munged slurmctld slurmd sbatch scontrol; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "${missing[*]} missing, and no apt-get to install Debian's slurmctld slurmd slurm-client munge"
  echo "slurm-dev: installing Debian's slurmctld slurmd slurm-client munge (missing: ${missing[*]})" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >&2 ||
    die "apt-get could not install slurmctld slurmd slurm-client munge"
  for c in "${missing[@]}"; do command -v "$c" >/dev/null 2>&1 || die "$c is still missing after installing the Slurm packages"; done
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_conf() {
  local addr
  # The nodes' address is this machine's first non-loopback one, so that roles and agents are
  # reached the way they are on a real cluster (not through loopback).
  addr=$(hostname -I 2>/dev/null | awk '{print $1}')
  [ -n "$addr" ] || addr=127.0.0.1
  local host; host=$(hostname)
  {
    echo "ClusterName=streambench-test"
    echo "SlurmctldHost=$host($addr)"
    echo "SlurmctldPort=$PORT"
    echo "SlurmUser=root"
    echo "SlurmdUser=root"
    echo "AuthType=auth/munge"
    echo "AuthInfo=socket=$DIR/munge/munge.socket"
    echo "CredType=cred/munge"
    echo "StateSaveLocation=$DIR/state"
    echo "SlurmdSpoolDir=$DIR/spool/%n"
    echo "SlurmctldPidFile=$DIR/run/slurmctld.pid"
    echo "SlurmdPidFile=$DIR/run/slurmd-%n.pid"
    echo "SlurmctldLogFile=$DIR/log/slurmctld.log"
    echo "SlurmdLogFile=$DIR/log/slurmd-%n.log"
    echo "ProctrackType=proctrack/linuxproc"
    echo "TaskPlugin=task/none"
    # select/linear gives whole nodes to a job: two points never share a node.
    echo "SelectType=select/linear"
    # Only the backfill scheduler starts heterogeneous jobs; these settings make it act at once.
    echo "SchedulerType=sched/backfill"
    echo "SchedulerParameters=bf_interval=1,batch_sched_delay=0,sched_min_interval=0"
    echo "MpiDefault=none"
    echo "ReturnToService=2"
    echo "SlurmdParameters=config_overrides"
    echo "KillWait=3"
    echo "MinJobAge=600"
    echo "InactiveLimit=0"
    echo "SlurmctldTimeout=30"
    echo "SlurmdTimeout=60"
    echo "JobCompType=jobcomp/none"
    echo "PropagateResourceLimits=NONE"
    local p=$((PORT + 1))
    for n in "${NODES[@]}"; do
      echo "NodeName=$n NodeHostname=$host NodeAddr=$addr Port=$p CPUs=1 RealMemory=1000 State=UNKNOWN"
      p=$((p + 1))
    done
    echo "PartitionName=bench Nodes=$(IFS=,; echo "${NODES[*]}") Default=YES MaxTime=INFINITE State=UP"
  } > "$CONF.new"
  # A changed node list needs a clean controller state ("lookup failure for node" otherwise).
  if ! cmp -s "$CONF.new" "$CONF" 2>/dev/null; then rm -rf "$DIR/state"; fi
  mv "$CONF.new" "$CONF"
}

start() {
  local count=3
  while [ $# -gt 0 ]; do
    case "$1" in
      --nodes) count="${2:-}"; shift 2 || die "--nodes needs a number" ;;
      --nodes=*) count="${1#--nodes=}"; shift ;;
      *) die "start: unknown option $1 (usage: start [--nodes N])" ;;
    esac
  done
  [[ "$count" =~ ^[1-9][0-9]?$ ]] || die "--nodes must be a whole number from 1 to 99, not '$count'"
  need
  mapfile -t NODES < <(node_names "$count")
  if alive "$DIR/run/slurmctld.pid"; then
    if [ "$(conf_nodes | tr '\n' ' ')" = "$(printf '%s ' "${NODES[@]}")" ] && status >/dev/null; then
      echo "slurm-dev: already running, ${#NODES[@]} nodes (SLURM_CONF=$CONF)"
      return 0
    fi
    # Another node list (or a broken cluster): daemons of the old one would hold the ports.
    stop >/dev/null
  fi
  mkdir -p "$DIR"/{state,run,log,munge}
  for n in "${NODES[@]}"; do mkdir -p "$DIR/spool/$n"; done
  write_conf
  # munge: a key of our own (only munge reads it), the daemon as user munge (it refuses to run as
  # root), its socket in DIR (whose directory every client must be able to enter).
  chmod 755 "$DIR"
  chown munge: "$DIR/munge" && chmod 755 "$DIR/munge"
  runuser -u munge -- test -w "$DIR/munge" || die "user munge cannot enter $DIR/munge: every directory above it must be traversable by others (chmod o+x)"
  if [ ! -f "$DIR/munge/munge.key" ]; then
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chown munge: "$DIR/munge/munge.key" && chmod 400 "$DIR/munge/munge.key"
  fi
  if ! alive "$DIR/munge/munged.pid"; then
    runuser -u munge -- munged --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
      --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed" \
      || die "munged did not start (see $DIR/munge/munged.log)"
  fi
  if ! alive "$DIR/run/slurmctld.pid"; then
    slurmctld -f "$CONF" || die "slurmctld did not start (see $DIR/log/slurmctld.log)"
  fi
  for n in "${NODES[@]}"; do
    alive "$DIR/run/slurmd-$n.pid" || slurmd -f "$CONF" -N "$n" || die "slurmd $n did not start (see $DIR/log/slurmd-$n.log)"
  done
  # Ready when every node is idle (a cold start takes a second or two).
  for _ in $(seq 1 60); do
    if [ "$(sinfo -h -N -o '%t' 2>/dev/null | grep -c '^idle')" -eq ${#NODES[@]} ]; then
      echo "slurm-dev: running, ${#NODES[@]} nodes idle: ${NODES[*]} (SLURM_CONF=$CONF)"
      return 0
    fi
    sleep 0.5
  done
  sinfo -N >&2 || true
  die "the nodes did not become idle within 30 s (see $DIR/log/)"
}

stop() {
  local pids=()
  for f in "$DIR"/run/slurmd-*.pid "$DIR/run/slurmctld.pid" "$DIR/munge/munged.pid"; do
    if alive "$f"; then pids+=("$(cat "$f")"); kill "$(cat "$f")"; fi
  done
  # Wait for each to be gone (KILL after 10 s): a next start must find the ports free.
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null || true
  done
  echo "slurm-dev: stopped (${#pids[@]} daemons)"
}

status() {
  alive "$DIR/run/slurmctld.pid" || { echo "slurm-dev: not running"; return 1; }
  sinfo -N -o '%N %t %P' || return 1
  [ "$(sinfo -h -N -o '%t' 2>/dev/null | grep -c -E '^(idle|alloc|mix)')" -eq "$(conf_nodes | wc -l)" ]
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  start) start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [--nodes N]|stop|status   (N: nodes, three per point at once, default 3; dir: \$STREAMBENCH_SLURM_DIR, default /tmp/streambench-slurm)" >&2; exit 2 ;;
esac
