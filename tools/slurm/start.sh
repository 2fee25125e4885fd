#!/usr/bin/env bash
# Start a one-node SLURM on this machine, for tests/test_slurm.py and for trying
# profiles/slurm without a cluster. Loopback only: every daemon binds 127.0.0.1.
#
#   tools/slurm/start.sh            # idempotent: reuses what already runs
#   tools/slurm/stop.sh             # stops exactly what this script started
#
# State (config, pid files, logs, spool) lives in $XAI_SLURM_DIR (default: slurm/run/ of
# the repository). /etc/slurm/slurm.conf becomes a symlink to its slurm.conf: the plugin's
# job step drops SLURM_CONF from the environment of its inner srun, so the config must be at
# the default path (as on any real cluster). Needs root and tools/slurm/install.sh's packages.
# Facts this relies on (Debian 12, slurm 22.05): no systemd and no cgroups here, hence
# proctrack/linuxproc and task/none; munged refuses to run as root, so it runs as munge.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
STATE="${XAI_SLURM_DIR:-$REPO/slurm/run}"
CONF="$STATE/slurm.conf"
NODE=localhost
ADDR=127.0.0.1
CTLD_PORT="${XAI_SLURM_CTLD_PORT:-6817}"
SLURMD_PORT="${XAI_SLURM_SLURMD_PORT:-6818}"
SRUN_PORTS="${XAI_SLURM_SRUN_PORTS:-60001-60100}"
export SLURM_CONF="$CONF"

log() { echo "slurm start: $*"; }
die() { echo "slurm start: error: $*" >&2; exit 1; }

for bin in slurmctld slurmd sbatch squeue scontrol sinfo munged munge unmunge runuser ss; do
    command -v "$bin" >/dev/null || die "$bin not found; run tools/slurm/install.sh"
done
[ "$(id -u)" -eq 0 ] || die "needs root (slurmd runs jobs as their submitting user)"

# alive PIDFILE NAME: the pid in PIDFILE is a running process called NAME
alive() {
    local pid
    [ -s "$1" ] || return 1
    pid="$(cat "$1")"
    [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]
}

mkdir -p "$STATE/ctld" "$STATE/spool" "$STATE/logs"
chmod 755 "$STATE"

# 1. The hostname must resolve to loopback: client commands and srun bind to it
#    (CommunicationParameters=NoInAddrAny), and it must not be a public address.
host="$(hostname)"
resolved="$(getent ahostsv4 "$host" | awk 'NR==1 {print $1}')"
if [[ "$resolved" != 127.* ]]; then
    log "hostname $host resolves to '${resolved:-nothing}'; mapping it to 127.0.0.1 in /etc/hosts"
    echo "127.0.0.1 $host  # added by xai-repro tools/slurm/start.sh" >>/etc/hosts
    echo "$host" >"$STATE/hosts_added"
fi

# 2. munge: reuse a working munged (someone else's: never stopped by stop.sh), else start ours.
if alive "$STATE/munged.pid" munged; then
    log "munged already running (pid $(cat "$STATE/munged.pid"))"
elif munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "a munged not started here answers; reusing it (stop.sh leaves it alone)"
else
    [ -s /etc/munge/munge.key ] || die "/etc/munge/munge.key missing (reinstall munge)"
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge
    install -d -o munge -g munge -m 0711 /var/lib/munge
    runuser -u munge -- munged --pid-file=/run/munge/munged.pid
    for _ in $(seq 50); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.1
    done
    munge -n | unmunge >/dev/null || die "munged did not start (see /var/log/munge/munged.log)"
    cp /run/munge/munged.pid "$STATE/munged.pid"
    log "started munged (pid $(cat "$STATE/munged.pid"))"
fi

# 3. slurm.conf: one node with this machine's CPUs and memory, loopback only.
if alive "$STATE/slurmctld.pid" slurmctld && alive "$STATE/slurmd.pid" slurmd; then
    log "slurmctld and slurmd already running (pids $(cat "$STATE/slurmctld.pid"), $(cat "$STATE/slurmd.pid"))"
else
    for port in "$CTLD_PORT" "$SLURMD_PORT"; do
        if ss -Hltn "sport = :$port" | grep -q .; then
            die "port $port is taken by another process (another SLURM?); set XAI_SLURM_CTLD_PORT/XAI_SLURM_SLURMD_PORT"
        fi
    done
    # the hardware's CPUs as slurmd sees them: not nproc, which honours OMP_NUM_THREADS
    # (a test process that limited its threads to 1 would get a 1-CPU node, and every
    # 2-thread job would pend forever with reason PartitionConfig)
    hw="$(slurmd -C)"
    cpus="$(printf '%s\n' "$hw" | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' | head -n 1)"
    [ -n "$cpus" ] || cpus="$(OMP_NUM_THREADS= OMP_THREAD_LIMIT= nproc --all)"
    mem_mb="$(printf '%s\n' "$hw" | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n 1)"
    [ -n "$mem_mb" ] || die "slurmd -C reported no RealMemory"
    if [ -e /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" != "$CONF" ]; then
        die "/etc/slurm/slurm.conf exists and is not ours: this machine has its own SLURM"
    fi
    cat >"$CONF" <<CONF
# Written by tools/slurm/start.sh: a one-node SLURM bound to 127.0.0.1 only.
ClusterName=xai-repro
SlurmctldHost=$NODE($ADDR)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SrunPortRange=$SRUN_PORTS
# bind to 127.0.0.1, never INADDR_ANY (slurmctld needs NoCtldInAddrAny)
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/logs/slurmctld.log
SlurmdLogFile=$STATE/logs/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no systemd, no cgroups on this kind of machine
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
# cores and memory are consumable: a job without --mem gets DefMemPerCPU, not the node
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
JobAcctGatherParams=OverMemoryKill
# no slurmdbd: sacct has nothing, so clients poll squeue; keep finished jobs there 10 min
AccountingStorageType=accounting_storage/none
MinJobAge=600
# every finished job is recorded here (tests/test_slurm.py reads it)
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/logs/jobcomp.log
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
NodeName=$NODE NodeAddr=$ADDR NodeHostname=$NODE CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
    if [ ! -L /etc/slurm/slurm.conf ]; then
        mkdir -p /etc/slurm
        ln -s "$CONF" /etc/slurm/slurm.conf
        echo /etc/slurm/slurm.conf >"$STATE/conf_link"
    fi
    if ! alive "$STATE/slurmctld.pid" slurmctld; then
        slurmctld -c -f "$CONF"   # -c: fresh state; the daemon forks and writes its pid file
        log "started slurmctld"
    fi
    if ! alive "$STATE/slurmd.pid" slurmd; then
        slurmd -N "$NODE" -f "$CONF"
        log "started slurmd"
    fi
fi

# 4. Wait until the node takes jobs.
state=""
for _ in $(seq 100); do
    state="$(sinfo -h -n "$NODE" -o %t 2>/dev/null || true)"
    case "$state" in
        idle | mix | alloc) break ;;
        down* | drain*) scontrol update nodename="$NODE" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.2
done
case "$state" in
    idle | mix | alloc) ;;
    *) die "node $NODE is '${state:-unknown}' (see $STATE/logs/slurmctld.log and slurmd.log)" ;;
esac

# 5. Loopback only: the daemons' ports must be bound to 127.0.0.1 and nothing else.
bad="$(ss -Hltn | awk -v a=":$CTLD_PORT" -v b=":$SLURMD_PORT" \
    '($4 ~ a"$" || $4 ~ b"$") && $4 !~ /^127\.0\.0\.1:/ {print $4}')"
[ -z "$bad" ] || { "$(dirname "$0")/stop.sh"; die "a daemon listens on $bad (not loopback); stopped"; }
log "node $NODE is $state; slurmctld 127.0.0.1:$CTLD_PORT, slurmd 127.0.0.1:$SLURMD_PORT; config $CONF"
