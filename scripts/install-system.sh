#!/usr/bin/env bash
# The Debian packages the app and its tests need beyond Python: Chromium (PNG export through
# kaleido, and the browser tests) and the fonts it draws charts with. Run as root by the
# Dockerfile and by .ci/run, so the container's recipe is exercised wherever CI runs.
# Does nothing when everything is already there.
set -euo pipefail

PACKAGES=(chromium fonts-liberation ca-certificates)

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "system packages: all present (${PACKAGES[*]})"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Keep an image small; on a machine the lists are worth keeping.
if [ "${INSTALL_SYSTEM_CLEAN:-0}" = "1" ]; then
    apt-get clean
    rm -rf /var/lib/apt/lists/*
fi
command -v chromium >/dev/null
echo "system packages: installed ${missing[*]}"
