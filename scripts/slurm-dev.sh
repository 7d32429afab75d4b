#!/usr/bin/env bash
# A private Slurm cluster of N nodes on this one machine, for the tests of the Slurm executor and
# for trying it: three nodes per point that runs at once (a stream point puts guest, host and
# client each on a node of its own), named guest1, host1, client1, guest2, host2, client2, ...
# Its own config, state, ports and munge key under one directory, so it never touches (or needs)
# a system Slurm. Idempotent: `start` on a running cluster of that size only checks it (of another
# size, it is restarted with the new node list); `stop` ends exactly the daemons it started (by
# their pid files) and nothing else. Installs Debian's Slurm packages when they are missing.
#
#   scripts/slurm-dev.sh start [--nodes N] [--clock-shift NODE=SECONDS]...|stop|status
#   (N default 3; dir: $STREAMBENCH_SLURM_DIR, default /tmp/streambench-slurm)
#
# Each group of three nodes has a Slurm node feature of its own (g1: guest1 host1 client1, g2:
# guest2 host2 client2, ...): `sbatch --constraint=g1` (streambench: --slurm-opt=--constraint=g1)
# holds a job to one group.
#
# --clock-shift NODE=SECONDS (repeatable) starts that node's slurmd in a time namespace of its
# own whose CLOCK_MONOTONIC (and so that of every job step it starts) runs SECONDS ahead of this
# machine's (`unshare --time --fork --monotonic SECONDS`; Linux >= 5.6): nodes on one machine
# whose clocks differ as different machines' do, to test the mapping of stamps across clocks. A
# node without one (or with 0) runs in the caller's time namespace. A whole number of seconds; a
# negative one must be smaller than the uptime (the kernel refuses it otherwise). `start` on a
# running cluster with other shifts restarts it.
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

# The clock shift of node $1 as asked (SHIFT, from --clock-shift), seconds; 0 when none.
wanted_shift() { echo "${SHIFT[$1]:-0}"; }

# The clock shift node $1's running slurmd really has: its time namespace's monotonic offset, or
# 0 when it runs in this script's time namespace; "none" when it does not run.
running_shift() {
  local f="$DIR/run/slurmd-$1.pid" pid
  alive "$f" || { echo none; return; }
  pid=$(cat "$f")
  if [ "$(readlink "/proc/$pid/ns/time" 2>/dev/null)" = "$(readlink /proc/self/ns/time 2>/dev/null)" ]; then echo 0; return; fi
  awk '$1 == "monotonic" { print $2 }' "/proc/$pid/timens_offsets" 2>/dev/null || echo unknown
}

# Whether every node's slurmd runs with the shift asked for it.
shifts_match() {
  local n
  for n in "${NODES[@]}"; do [ "$(running_shift "$n")" = "$(wanted_shift "$n")" ] || return 1; done
}

# The shifted nodes as NODE=+SECONDS words (empty when none).
shift_words() {
  local n
  for n in "${NODES[@]}"; do [ "$(wanted_shift "$n")" = 0 ] || printf ' %s=%+d s' "$n" "$(wanted_shift "$n")"; done
}

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
    local p=$((PORT + 1)) i=0
    # Features=gK: the K-th group of three nodes (guest, host, client), for --constraint=gK.
    for n in "${NODES[@]}"; do
      echo "NodeName=$n NodeHostname=$host NodeAddr=$addr Port=$p CPUs=1 RealMemory=1000 Features=g$((i / 3 + 1)) State=UNKNOWN"
      p=$((p + 1))
      i=$((i + 1))
    done
    echo "PartitionName=bench Nodes=$(IFS=,; echo "${NODES[*]}") Default=YES MaxTime=INFINITE State=UP"
  } > "$CONF.new"
  # A changed node list needs a clean controller state ("lookup failure for node" otherwise).
  if ! cmp -s "$CONF.new" "$CONF" 2>/dev/null; then rm -rf "$DIR/state"; fi
  mv "$CONF.new" "$CONF"
}

start() {
  local count=3 shifts=() x n v sign
  while [ $# -gt 0 ]; do
    case "$1" in
      --nodes) count="${2:-}"; shift 2 || die "--nodes needs a number" ;;
      --nodes=*) count="${1#--nodes=}"; shift ;;
      --clock-shift) shifts+=("${2:-}"); shift 2 || die "--clock-shift needs NODE=SECONDS" ;;
      --clock-shift=*) shifts+=("${1#--clock-shift=}"); shift ;;
      *) die "start: unknown option $1 (usage: start [--nodes N] [--clock-shift NODE=SECONDS]...)" ;;
    esac
  done
  [[ "$count" =~ ^[1-9][0-9]?$ ]] || die "--nodes must be a whole number from 1 to 99, not '$count'"
  mapfile -t NODES < <(node_names "$count")
  declare -gA SHIFT=()
  for x in "${shifts[@]}"; do
    [[ "$x" =~ ^([a-z]+[0-9]+)=([+-]?[0-9]+)$ ]] || die "--clock-shift takes NODE=SECONDS (e.g. host1=300), not '$x'"
    n="${BASH_REMATCH[1]}"
    # (a pattern match, not printf | grep -q: under pipefail, printf's SIGPIPE after grep's first match fails it)
    [[ " ${NODES[*]} " == *" $n "* ]] || die "--clock-shift $x: no node $n in this cluster (${NODES[*]})"
    v="${BASH_REMATCH[2]}"
    sign=1
    [[ "$v" == -* ]] && sign=-1
    SHIFT[$n]=$((sign * 10#${v#[+-]}))
  done
  need
  if [ ${#SHIFT[@]} -gt 0 ]; then
    command -v unshare >/dev/null 2>&1 || die "--clock-shift needs unshare (util-linux)"
    unshare --time --fork --monotonic 1 true 2>/dev/null || die "--clock-shift: this machine makes no time namespace (unshare --time needs Linux >= 5.6 and the right to unshare)"
  fi
  if alive "$DIR/run/slurmctld.pid"; then
    if [ "$(conf_nodes | tr '\n' ' ')" = "$(printf '%s ' "${NODES[@]}")" ] && grep -q ' Features=g1 ' "$CONF" && shifts_match && status >/dev/null; then
      echo "slurm-dev: already running, ${#NODES[@]} nodes$( [ -n "$(shift_words)" ] && echo ", clocks shifted:$(shift_words)") (SLURM_CONF=$CONF)"
      return 0
    fi
  fi
  # Another node list, other clock shifts (or a broken cluster): daemons of the old one would hold
  # the ports, or run on the wrong clock.
  for x in "$DIR"/run/slurmd-*.pid "$DIR/run/slurmctld.pid"; do
    if alive "$x"; then stop >/dev/null; break; fi
  done
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
    alive "$DIR/run/slurmd-$n.pid" && continue
    if [ "$(wanted_shift "$n")" = 0 ]; then
      slurmd -f "$CONF" -N "$n" || die "slurmd $n did not start (see $DIR/log/slurmd-$n.log)"
    else
      # slurmd daemonizes: unshare's child (slurmd's parent) exits once it has, and the daemon,
      # with every job step it starts, stays in the namespace.
      unshare --time --fork --monotonic "$(wanted_shift "$n")" slurmd -f "$CONF" -N "$n" ||
        die "slurmd $n did not start in a time namespace shifted by $(wanted_shift "$n") s (see $DIR/log/slurmd-$n.log)"
    fi
  done
  # Each slurmd on the clock asked for it (its pid file is written as it daemonizes).
  for n in "${NODES[@]}"; do
    for _ in $(seq 1 50); do [ "$(running_shift "$n")" != none ] && break; sleep 0.1; done
    [ "$(running_shift "$n")" = "$(wanted_shift "$n")" ] || die "slurmd $n runs with a clock shift of $(running_shift "$n"), not $(wanted_shift "$n") s"
  done
  # Ready when every node is idle (a cold start takes a second or two).
  for _ in $(seq 1 60); do
    if [ "$(sinfo -h -N -o '%t' 2>/dev/null | grep -c '^idle')" -eq ${#NODES[@]} ]; then
      echo "slurm-dev: running, ${#NODES[@]} nodes idle: ${NODES[*]}$( [ -n "$(shift_words)" ] && echo "; clocks shifted:$(shift_words)") (SLURM_CONF=$CONF)"
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
  local n s
  for n in $(conf_nodes); do
    s=$(running_shift "$n")
    [ "$s" = 0 ] || [ "$s" = none ] || echo "$n: slurmd in a time namespace, CLOCK_MONOTONIC shifted by $s s"
  done
  [ "$(sinfo -h -N -o '%t' 2>/dev/null | grep -c -E '^(idle|alloc|mix)')" -eq "$(conf_nodes | wc -l)" ]
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  start) start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [--nodes N] [--clock-shift NODE=SECONDS]...|stop|status   (N: nodes, three per point at once, default 3; --clock-shift: that node's slurmd in a time namespace whose CLOCK_MONOTONIC runs SECONDS ahead, repeatable; dir: \$STREAMBENCH_SLURM_DIR, default /tmp/streambench-slurm)" >&2; exit 2 ;;
esac
