#!/usr/bin/env bash
# The scale-out path tested for real: a one-machine Slurm cluster (Debian's slurm-wlm and munge),
# a sweep submitted as a job array (one `--shard K/N` per task), the merge as a job that depends on
# the whole array (`--dependency=afterok`), and the merged report compared byte for byte with the
# unsharded sweep's.
#
# Needs root (it writes /etc/slurm and starts the daemons) and Debian's packages; it installs
# slurm-wlm when sbatch is missing. Uses target/release/scalesim (built if absent; SCALESIM_BIN
# overrides). Stops the daemons it started, by their process ids, on exit. About a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "slurm-test: needs root (it configures and starts slurmctld, slurmd and munged)" >&2
  exit 2
fi
if ! command -v sbatch >/dev/null 2>&1 || ! command -v slurmctld >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm >/dev/null
fi
BIN=${SCALESIM_BIN:-$ROOT/target/release/scalesim}
[ -x "$BIN" ] || cargo build --release --locked
BIN=$(readlink -f "$BIN")

WORK=$(mktemp -d /tmp/scalesim-slurm.XXXXXX)
H=$(hostname -s)
started=()
cleanup() {
  # The daemons this script started, by pid (scontrol shutdown first: it stops both cleanly).
  scontrol shutdown >/dev/null 2>&1 || true
  sleep 1
  for pid in "${started[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=scalesim-ci
SlurmctldHost=$H
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=600
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$H CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=$H Default=YES MaxTime=INFINITE State=UP
CONF

# munge: its key, then the daemon unless one already answers.
if [ ! -f /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chmod 400 /etc/munge/munge.key
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  /usr/sbin/munged --force 2>/dev/null || /usr/sbin/munged --force
  sleep 1
  [ -f /run/munge/munged.pid ] && started+=("$(cat /run/munge/munged.pid)")
fi
slurmctld
for _ in $(seq 50); do [ -s "$WORK/slurmctld.pid" ] && break; sleep 0.2; done
started+=("$(cat "$WORK/slurmctld.pid")")
slurmd
for _ in $(seq 50); do [ -s "$WORK/slurmd.pid" ] && break; sleep 0.2; done
started+=("$(cat "$WORK/slurmd.pid")")
for i in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
  [ "$i" = 60 ] && { echo "slurm-test: the node never came up" >&2; sinfo >&2 || true; tail -20 /var/log/slurm/slurmd.log >&2 || true; exit 1; }
  sleep 1
done
sinfo

# The sweep: 3 points × 2 replications of the M/M/c validation scenario, in 3 shards.
N=3
SWEEP=(sweep "$ROOT/scenarios/validation/mmc.toml" --param 'workload.arrival_rate=200/s..300/s:lin3'
  --replications 2 --set scenario.duration=1m --set scenario.warmup=10s --quiet)
mkdir -p "$WORK/shards"
args=$(printf '%q ' "${SWEEP[@]}")
array=$(sbatch --parsable --job-name=scalesim-sweep --array=0-$((N - 1)) --cpus-per-task=1 \
  --output="$WORK/shard-%a.log" --chdir="$WORK" \
  --wrap "$BIN $args --shard \$SLURM_ARRAY_TASK_ID/$N --out $WORK/shards/shard-\$SLURM_ARRAY_TASK_ID.json")
array=${array%%;*}
merge=$(sbatch --parsable --job-name=scalesim-merge --dependency=afterok:"$array" \
  --output="$WORK/merge.log" --chdir="$WORK" \
  --wrap "$BIN merge $WORK/shards/shard-*.json --out $WORK/merged --quiet")
merge=${merge%%;*}
echo "submitted array $array ($N shards) and merge $merge (afterok:$array)"

# Meanwhile, the same sweep unsharded, here.
"$BIN" "${SWEEP[@]}" --out "$WORK/unsharded"

state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1; }
for i in $(seq 180); do
  s=$(state "$merge")
  case "$s" in
    COMPLETED) break ;;
    FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
      echo "slurm-test: the merge job ended $s" >&2
      cat "$WORK"/*.log >&2 || true
      exit 1 ;;
  esac
  [ "$i" = 180 ] && { echo "slurm-test: the merge job is still $s after 180 s" >&2; squeue >&2; exit 1; }
  sleep 1
done
for k in $(seq 0 $((N - 1))); do
  [ -s "$WORK/shards/shard-$k.json" ] || { echo "slurm-test: shard $k missing" >&2; exit 1; }
done
if diff -r "$WORK/unsharded" "$WORK/merged"; then
  echo "slurm-test: PASS — $N array tasks merged by a dependent job equal the unsharded sweep ($(ls "$WORK/merged" | wc -l) files, byte for byte)"
  rm -rf "$WORK"
else
  echo "slurm-test: FAIL — the merged report differs from the unsharded one (kept in $WORK)" >&2
  exit 1
fi
