#!/bin/bash
# First-start setup of Vigil's InfluxDB 2 (the influxdb:2.7 image). The image runs every
# executable *.sh in /docker-entrypoint-initdb.d once, right after `influx setup` has created the
# organisation, the admin user and the first bucket, with the influx CLI already logged in as
# that user. If this script fails, the image deletes the half-initialised data and the next
# start tries again.
#
# Vigil's code speaks the InfluxDB 1.x HTTP API (/write and /query with InfluxQL). InfluxDB 2
# serves that API through DBRP mappings (database + retention policy -> bucket), and the v1 API
# cannot create databases or retention policies itself, so they are made here:
#
#   bucket ${VIGIL_INFLUX_DB}         (retention VIGIL_INFLUX_RAW_RETENTION)    <-> db ${VIGIL_INFLUX_DB}, rp raw (default)
#   bucket ${VIGIL_INFLUX_DB}-events  (retention VIGIL_INFLUX_EVENTS_RETENTION) <-> db ${VIGIL_INFLUX_DB}, rp events
#
# The first bucket is DOCKER_INFLUXDB_INIT_BUCKET (= VIGIL_INFLUX_DB in docker-compose.yml),
# created by `influx setup` with DOCKER_INFLUXDB_INIT_RETENTION (= VIGIL_INFLUX_RAW_RETENTION).
set -euo pipefail

: "${DOCKER_INFLUXDB_INIT_ORG:?}"
: "${DOCKER_INFLUXDB_INIT_BUCKET:?}"
: "${DOCKER_INFLUXDB_INIT_BUCKET_ID:?set by the image after influx setup}"
: "${VIGIL_INFLUX_DB:?}"
: "${VIGIL_INFLUX_EVENTS_RETENTION:?}"

readonly org="$DOCKER_INFLUXDB_INIT_ORG"
readonly raw_bucket_id="$DOCKER_INFLUXDB_INIT_BUCKET_ID"
readonly events_bucket="${DOCKER_INFLUXDB_INIT_BUCKET}-events"

# The CLI prints tab-separated columns, ID first.
first_column() { awk 'NR == 1 { print $1 }'; }

require_id() {
  if [[ ! "$2" =~ ^[0-9a-f]{16}$ ]]; then
    echo "init-vigil: could not read the id of $1 (got '$2')" >&2
    exit 1
  fi
}

events_bucket_id="$(influx bucket create --org "$org" --name "$events_bucket" \
  --retention "$VIGIL_INFLUX_EVENTS_RETENTION" --hide-headers | first_column)"
require_id "bucket $events_bucket" "$events_bucket_id"

influx v1 dbrp create --org "$org" --db "$VIGIL_INFLUX_DB" --rp raw --bucket-id "$raw_bucket_id" --default
influx v1 dbrp create --org "$org" --db "$VIGIL_INFLUX_DB" --rp events --bucket-id "$events_bucket_id"

echo "init-vigil: db $VIGIL_INFLUX_DB: rp raw -> bucket $DOCKER_INFLUXDB_INIT_BUCKET, rp events -> bucket $events_bucket"
