#!/usr/bin/env bash
# Second README command: install what is needed and run the whole test suite
# (lint, typecheck, unit and marble tests, integration tests against real influxd and mosquitto,
# and the end-to-end test in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh test
# --no-save: installs from package-lock.json without rewriting it (see demo.sh).
npm install --no-audit --no-fund --no-save
exec npm test
