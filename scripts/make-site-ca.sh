#!/usr/bin/env bash
# Makes a local certificate authority for one site and the certificates Vigil needs, with openssl:
#
#   scripts/make-site-ca.sh <out-dir> <server-name>[,<more names or IPs>] [<device-id>...]
#
#   <out-dir>/ca.crt, ca.key          the site CA (keep ca.key offline once the certificates exist)
#   <out-dir>/server.crt, server.key  the broker's MQTTS listener and the gateway's HTTPS
#                                     (VIGIL_MQTT_TLS_CERT/KEY, VIGIL_HTTPS_CERT/KEY, or
#                                     Mosquitto's certfile/keyfile); subjectAltName = the names given
#   <out-dir>/devices/<id>.crt, .key  optional client certificates (CN = device id), for brokers
#                                     that require them (VIGIL_MQTT_TLS_CLIENT_CA=<out-dir>/ca.crt)
#
# An existing CA in <out-dir> is reused, so devices can be added later. Keys are written 0600.
# EC P-256 keys, SHA-256 signatures; the CA is valid 10 years, the others 825 days (the longest
# validity current TLS clients accept for a server certificate).
set -euo pipefail

if [ "$#" -lt 2 ]; then
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
command -v openssl >/dev/null || { echo "make-site-ca: openssl not found" >&2; exit 2; }

out=$1
names=$2
shift 2
umask 077
mkdir -p "$out/devices"

if [ ! -f "$out/ca.key" ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$out/ca.key"
  openssl req -x509 -new -key "$out/ca.key" -sha256 -days 3650 \
    -subj "/CN=Vigil site CA $(basename "$out")" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/ca.crt"
  echo "make-site-ca: new CA $out/ca.crt"
fi

san=""
IFS=',' read -ra list <<<"$names"
for name in "${list[@]}"; do
  if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then san="$san,IP:$name"; else san="$san,DNS:$name"; fi
done
san=${san#,}

# sign <key> <crt> <subject> <extensions>
sign() {
  local key=$1 crt=$2 subject=$3 ext=$4 csr
  csr=$(mktemp)
  openssl ecparam -name prime256v1 -genkey -noout -out "$key"
  openssl req -new -key "$key" -subj "$subject" -out "$csr"
  openssl x509 -req -in "$csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -days 825 -sha256 -extfile <(printf '%s\n' "$ext") -out "$crt" 2>/dev/null
  rm -f "$csr"
  chmod 0600 "$key"
}

sign "$out/server.key" "$out/server.crt" "/CN=${list[0]}" \
  "subjectAltName=$san
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature"
echo "make-site-ca: server certificate $out/server.crt ($san)"

for device in "$@"; do
  if ! [[ $device =~ ^[A-Za-z0-9_-]{1,64}$ ]]; then
    echo "make-site-ca: \"$device\" is not a device id" >&2
    exit 2
  fi
  sign "$out/devices/$device.key" "$out/devices/$device.crt" "/CN=$device" \
    "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature"
  echo "make-site-ca: device certificate $out/devices/$device.crt"
done
chmod 0644 "$out/ca.crt" "$out/server.crt"
