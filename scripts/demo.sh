#!/usr/bin/env bash
# First README command: install what is needed and run the whole system with the sample site,
# the simulators and the console (embedded broker; local InfluxDB when influxd is available).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/install-system-deps.sh demo; then
  echo "vigil: !!! InfluxDB could not be installed: Vigil will run, but history will NOT be kept !!!" >&2
fi
npm install --no-audit --no-fund
exec npm start
