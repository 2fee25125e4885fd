#!/usr/bin/env bash
# Install Debian's chromium for the report's browser test (tests/test_report.py) and nothing
# else. Idempotent: does nothing when it is already installed. Needs root (CI runs as root).
# The test starts it headless with networking and updates off and a fresh profile.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "chromium install: $(chromium --version 2>/dev/null || echo chromium) already installed"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "chromium install: need root to apt-get install chromium" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# one `apt-get update` per CI run: skip it when the package lists are fresh (tools/slurm
# /install.sh, run just before by .ci/run, updates them)
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 2>/dev/null | head -n 1)" ]; then
    apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "chromium install: $(chromium --version)"
