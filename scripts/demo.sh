#!/usr/bin/env bash
# First README command: install what is needed and run the whole system with the sample site,
# the simulators and the console (embedded broker; local InfluxDB when influxd is available).
#   ./scripts/demo.sh --fresh    start without the alarms of earlier runs (moved aside, not deleted)
#   VIGIL_HTTP_PORT / VIGIL_MQTT_PORT choose the ports (8080 / 1883 by default).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/install-system-deps.sh demo; then
  echo "vigil: !!! InfluxDB could not be installed: Vigil will run, but history will NOT be kept !!!" >&2
fi
# Installs exactly what package-lock.json says. --no-save: npm would otherwise rewrite the lockfile
# with other platforms' optional @swc/core-* binaries (a dirty `git status` after the first run).
npm install --no-audit --no-fund --no-save
# Not `npm start`: npm adds its own error block when Vigil refuses to start (exit 2).
exec node scripts/start.mjs "$@"
