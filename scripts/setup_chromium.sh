#!/usr/bin/env bash
# Make sure headless Chromium is present for the status page's browser test.
# Installs Debian's chromium when apt is usable as root; otherwise says what to do.
# Only that test needs it (it skips, naming this script, when Chromium is missing).
set -uo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
command -v chromium-browser >/dev/null 2>&1 && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing Debian's chromium (headless browser for the status page test)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 \
         && apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; }
  command -v chromium >/dev/null 2>&1 && exit 0
fi
cat >&2 <<MSG
WARNING: Chromium is missing and could not be installed here; the status page's browser
test will be skipped. Install it with: sudo apt-get install chromium
MSG
exit 0
