#!/usr/bin/env bash
# Runs the suite again with the clock 400 days on (Debian's faketime package): no test may depend on
# today's date. CI installs faketime; elsewhere: apt-get install faketime.
set -euo pipefail
lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n1 || true)
if [ -z "$lib" ]; then
  echo "test:time needs libfaketime (Debian package 'faketime'): apt-get install faketime" >&2
  exit 1
fi
echo "test:time: the suite with the clock at $(FAKETIME=+400d LD_PRELOAD=$lib date -u +%F) (+400 days)"
FAKETIME=+400d LD_PRELOAD="$lib" NODE_COMPILE_CACHE=node_modules/.cache/node-compile exec tap "$@"
