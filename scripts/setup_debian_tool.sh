#!/usr/bin/env bash
# Make sure a command from a Debian package is present:
#   setup_debian_tool.sh COMMAND PACKAGE "what needs it"
# Installs the package when apt is usable as root; otherwise says how to install it and
# exits 0: what needs the command skips (tests) or falls back (benchmarks), naming it.
set -uo pipefail
command=$1 package=$2 purpose=$3
command -v "$command" >/dev/null 2>&1 && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing Debian's $package ($purpose)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$package" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 \
         && apt-get install -y -qq --no-install-recommends "$package" >/dev/null 2>&1; }
  command -v "$command" >/dev/null 2>&1 && exit 0
fi
cat >&2 <<MSG
WARNING: $command is missing and could not be installed here ($purpose).
Install it with: sudo apt-get install $package
MSG
exit 0
