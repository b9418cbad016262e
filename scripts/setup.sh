#!/usr/bin/env bash
# Installs everything the kiosk and its tests need on a fresh Debian machine: system
# packages (GL for Kivy, Xvfb, PC/SC with the virtual reader, a CJK font, espeak-ng,
# PostgreSQL's server programs for the gateway's tests, chromium for the console's),
# a virtual environment in .venv with the project and its test tools. Safe to run again:
# each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libgl1 libgl1-mesa-dri libegl1 libegl-mesa0 libmtdev1 xvfb xdotool
  libpcsclite1 libpcsclite-dev pcscd vsmartcard-vpcd fonts-wqy-microhei espeak-ng gcc
  postgresql chromium chromium-driver)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # pcscd and PostgreSQL are started by the tests themselves, in private configurations.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now pcscd.socket pcscd.service >/dev/null 2>&1 || true
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing the kiosk and its test tools into .venv"
  # the venv's own pip (23.x) installs the project editable from pyproject.toml; upgrading it
  # first cost every fresh clone a download and an install
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi
echo "setup: ready (.venv/bin/kiosk)"
