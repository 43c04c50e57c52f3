#!/bin/bash
# Prints a new API token for the Vigil services: read and write on the two Vigil buckets, nothing
# else (not the operator token, which can delete every bucket). Run it once after the first start
# and save the token in the file INFLUX_TOKEN_FILE names (deploy/env/.env) (deploy/README.md, step 4):
#
#   docker compose ... exec influxdb vigil-create-service-token
#
# The token is printed on stdout only; it is not logged. Revoke an old one with
# `influx auth list` and `influx auth delete --id <id>`.
set -euo pipefail

: "${DOCKER_INFLUXDB_INIT_ORG:?}"
: "${VIGIL_INFLUX_DB:?}"

readonly org="$DOCKER_INFLUXDB_INIT_ORG"

bucket_id() {
  local id
  id="$(influx bucket list --org "$org" --name "$1" --hide-headers | awk 'NR == 1 { print $1 }')"
  if [[ ! "$id" =~ ^[0-9a-f]{16}$ ]]; then
    echo "vigil-create-service-token: bucket $1 not found; did init-vigil.sh run?" >&2
    exit 1
  fi
  echo "$id"
}

raw_id="$(bucket_id "$VIGIL_INFLUX_DB")"
events_id="$(bucket_id "${VIGIL_INFLUX_DB}-events")"

token="$(influx auth create --org "$org" \
  --description "vigil services $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --read-bucket "$raw_id" --write-bucket "$raw_id" \
  --read-bucket "$events_id" --write-bucket "$events_id" \
  --json | sed -n 's/^[[:space:]]*"token":[[:space:]]*"\([^"]*\)".*$/\1/p')"

if [[ -z "$token" ]]; then
  echo "vigil-create-service-token: influx auth create printed no token" >&2
  exit 1
fi
echo "$token"
