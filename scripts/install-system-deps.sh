#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Vigil uses, where this machine allows it:
#   demo: influxdb (history is kept when present)
#   test: influxdb, mosquitto, nats-server (JetStream), chromium and prometheus-alertmanager (the tests run against the real
#         binaries; the notification tests post to a real Alertmanager and check with amtool)
# Without root or sudo it says what is missing and carries on; the caller decides whether that is fatal.
set -u
mode=${1:-demo}
packages=(influxdb)
# fonts-wqy-microhei: a CJK font, so that headless Chromium renders the Chinese console in screenshots.
[ "$mode" = test ] && packages=(influxdb mosquitto nats-server chromium fonts-wqy-microhei prometheus prometheus-alertmanager)

missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
if [ "$SUDO" = none ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "vigil: cannot install ${missing[*]} (needs apt-get and root or sudo)." >&2
  exit 1
fi
echo "vigil: installing ${missing[*]} with apt-get"
$SUDO apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian starts packaged daemons on install where systemd runs; Vigil starts its own instances
# on its own ports, so stop the packaged ones to free theirs.
for service in influxdb mosquitto prometheus-alertmanager; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    $SUDO systemctl stop "$service" || true
  fi
done
