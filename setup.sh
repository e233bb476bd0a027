#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: system packages, .venv, editable
# install, then the demo. `./setup.sh --no-demo` stops after installing.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  python3 python3-venv python3-dev build-essential
  gcc-arm-none-eabi libnewlib-arm-none-eabi
  qemu-system-arm qemu-system-misc
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
  chromium
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "==> apt: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
echo "==> installing tinycompress (editable) and its dependencies into .venv"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

if [ "${1:-}" != "--no-demo" ]; then
  echo "==> running the demo: .venv/bin/tinycompress demo"
  .venv/bin/tinycompress demo
fi
