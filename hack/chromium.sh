#!/usr/bin/env bash
# Installs Chromium from Debian's packages when it is missing, for the web console's browser
# tests (test/console drives it headless through chromedp).
#
#   hack/chromium.sh          install chromium unless it is there
#   hack/chromium.sh --check  only say whether it is there (exit 1 when not)
#
# On another system, install Chromium or Chrome by its own means and point
# SPARKPLANE_CHROMIUM at its binary.
set -euo pipefail

find_chromium() {
  if [[ -n "${SPARKPLANE_CHROMIUM:-}" && -x "${SPARKPLANE_CHROMIUM}" ]]; then
    echo "$SPARKPLANE_CHROMIUM"
    return 0
  fi
  command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null
}

if bin=$(find_chromium); then
  [[ "${1:-}" == "--check" ]] || echo "chromium is installed ($bin)" >&2
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "chromium is missing; run hack/chromium.sh" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "no chromium and no apt-get: install Chromium and set SPARKPLANE_CHROMIUM to its binary" >&2
  exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi
echo "installing chromium (Debian package) ..." >&2
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core
if ! bin=$(find_chromium); then
  echo "chromium installed, but no chromium binary is on PATH" >&2
  exit 1
fi
echo "chromium is installed ($bin)" >&2
