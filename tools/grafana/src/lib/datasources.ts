import type { DatasourceRef } from './influxql';

/**
 * The datasources Grafana is provisioned with (deploy/grafana/provisioning/datasources). The uids
 * are fixed so that the dashboards can name them; the URLs are the compose stack's service names
 * (deploy/compose/docker-compose.yml), and the secrets come from Grafana's environment.
 */
export const INFLUXDB: DatasourceRef = { type: 'influxdb', uid: 'vigil-influxdb' };
export const PROMETHEUS: DatasourceRef = { type: 'prometheus', uid: 'vigil-prometheus' };

export const DATASOURCES_PROVISIONING = {
  apiVersion: 1,
  datasources: [
    {
      name: 'Vigil InfluxDB',
      uid: INFLUXDB.uid,
      type: INFLUXDB.type,
      access: 'proxy',
      url: 'http://influxdb:8086',
      isDefault: true,
      editable: false,
      // InfluxQL through the 1.x API (InfluxDB 1.x, or 2.x with the DBRP mappings that
      // deploy/influxdb/init-vigil.sh creates): the dashboards' queries name the retention
      // policies raw and events.
      jsonData: {
        dbName: '$VIGIL_INFLUX_DB',
        httpMode: 'GET',
        version: 'InfluxQL',
        timeInterval: '10s',
        httpHeaderName1: 'Authorization',
      },
      // A read-only token (deploy/influxdb/create-service-token.sh), sent as a header to 2.x.
      secureJsonData: { httpHeaderValue1: 'Token $GRAFANA_INFLUX_TOKEN' },
    },
    {
      name: 'Vigil Prometheus',
      uid: PROMETHEUS.uid,
      type: PROMETHEUS.type,
      access: 'proxy',
      url: 'http://prometheus:9090',
      isDefault: false,
      editable: false,
      jsonData: { httpMethod: 'POST', timeInterval: '15s' },
    },
  ],
} as const;

export const DASHBOARDS_PROVISIONING = {
  apiVersion: 1,
  providers: [
    {
      name: 'vigil',
      orgId: 1,
      folder: 'Vigil',
      folderUid: 'vigil',
      type: 'file',
      disableDeletion: true,
      allowUiUpdates: false,
      updateIntervalSeconds: 60,
      options: { path: '/var/lib/grafana/dashboards/vigil', foldersFromFilesStructure: false },
    },
  ],
} as const;
