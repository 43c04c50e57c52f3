import { connect, type IClientOptions } from 'mqtt';

/** The few options the simulator sets per connection; the connector adds the fixed ones. */
export interface FleetClientOptions {
  readonly clientId: string;
  /** A device's own login, on a broker that asks for one (docs/security.md). */
  readonly username?: string;
  readonly password?: string;
  /** Only per-device connections carry a will: MQTT allows one per connection. */
  readonly will?: {
    readonly topic: string;
    readonly payload: string;
    readonly qos: 0 | 1;
    readonly retain: boolean;
  };
}

export interface FleetPublishOptions {
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

/** The part of an MQTT.js client the simulator uses; tests pass a fake without any I/O. */
export interface FleetMqttClient {
  readonly connected: boolean;
  publish(
    topic: string,
    message: string,
    options: FleetPublishOptions,
    callback: (error?: Error) => void,
  ): unknown;
  /** `force` ends the connection without a DISCONNECT packet, so the broker sends the last will. */
  end(force: boolean, options: object, callback: () => void): unknown;
  on(event: 'connect' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export type MqttClientFactory = (options: FleetClientOptions) => FleetMqttClient;

/**
 * A factory of real MQTT.js connections to `url`. Connections reconnect every second while the
 * broker is away; QoS 0 readings produced meanwhile fail at once (`queueQoSZero: false`) instead
 * of piling up in memory, and are counted as failed.
 */
export function mqttConnector(url: string, extra: IClientOptions = {}): MqttClientFactory {
  return ({ clientId, will, username, password }) =>
    connect(url, {
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      queueQoSZero: false,
      ...extra,
      clientId,
      ...(username !== undefined ? { username, password } : {}),
      ...(will ? { will: { ...will } } : {}),
    });
}
