#!/usr/bin/env bash
# Install the Debian packages of a one-node SLURM (tools/slurm/start.sh) and nothing else:
# slurmctld, slurmd, the client commands (sbatch, squeue, scontrol, sacct), munge, and
# iproute2 (ss: start.sh and tests/test_slurm.py check that nothing listens beyond loopback).
# Idempotent: does nothing when they are already installed. Needs root (CI runs as root).
# No daemon is started or enabled here: Debian's postinst scripts cannot start services
# without systemd/invoke-rc.d, and policy-rc.d below forbids it where they could.
set -euo pipefail

PACKAGES=(slurmctld slurmd slurm-client munge iproute2)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "slurm install: ${PACKAGES[*]} already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "slurm install: need root to apt-get install ${missing[*]}" >&2
    exit 1
fi

# Forbid the maintainer scripts to start daemons (they would listen on every address).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "slurm install: installed ${missing[*]} ($(dpkg-query -W -f='${Version}' slurmctld))"
