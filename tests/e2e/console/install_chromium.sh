#!/usr/bin/env bash
# `make test` installs what the console's browser tests drive: Debian's chromium and its chromedriver.
# Without apt (or root), the tests say why they are skipped instead.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "apt-get is not available: tests/e2e/console will be skipped (install chromium and chromium-driver)" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "not root and no sudo: tests/e2e/console will be skipped (install chromium and chromium-driver)" >&2
    exit 0
  fi
fi
$SUDO apt-get install -y chromium chromium-driver || { $SUDO apt-get update && $SUDO apt-get install -y chromium chromium-driver; }
