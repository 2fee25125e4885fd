#!/usr/bin/env bash
# Stop exactly what tools/slurm/start.sh started: the daemons whose pid files it keeps in
# $XAI_SLURM_DIR (default slurm/run/), each only if that pid still is the expected program.
# A munged that start.sh found already running is not stopped. Idempotent.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
STATE="${XAI_SLURM_DIR:-$REPO/slurm/run}"

log() { echo "slurm stop: $*"; }

# stop PIDFILE NAME: SIGTERM the pid in PIDFILE if it is NAME, wait up to 10 s, then SIGKILL
stop() {
    local pidfile="$1" name="$2" pid
    [ -s "$pidfile" ] || return 0
    pid="$(cat "$pidfile")"
    if [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$name" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do
            [ -e "/proc/$pid" ] || break
            sleep 0.1
        done
        if [ -e "/proc/$pid" ]; then
            kill -KILL "$pid" 2>/dev/null || true
            log "killed $name (pid $pid)"
        else
            log "stopped $name (pid $pid)"
        fi
    else
        log "$name (pid $pid) not running"
    fi
    rm -f "$pidfile"
}

# slurmd first (it ends its job steps), then the controller, then munge
stop "$STATE/slurmd.pid" slurmd
stop "$STATE/slurmctld.pid" slurmctld
stop "$STATE/munged.pid" munged

if [ -s "$STATE/conf_link" ] && [ -L /etc/slurm/slurm.conf ] \
    && [ "$(readlink /etc/slurm/slurm.conf)" = "$STATE/slurm.conf" ]; then
    rm -f /etc/slurm/slurm.conf
    log "removed the symlink /etc/slurm/slurm.conf"
fi
rm -f "$STATE/conf_link"

if [ -s "$STATE/hosts_added" ]; then
    host="$(cat "$STATE/hosts_added")"
    sed -i "/^127\.0\.0\.1 $host  # added by xai-repro tools\/slurm\/start.sh$/d" /etc/hosts
    rm -f "$STATE/hosts_added"
    log "removed the /etc/hosts line of $host"
fi
