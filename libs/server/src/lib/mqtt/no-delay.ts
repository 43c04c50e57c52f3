import type { MqttClient } from 'mqtt';

/**
 * Turns Nagle's algorithm off on the client's socket, now and after every reconnect (mqtt.js
 * builds a new stream each time and offers no option for it). Small messages between Vigil's
 * processes (alarm batches, commands and replies) must not wait for the previous segment's ACK:
 * that held them 20–40 ms (docs/benchmarks.md).
 */
export function withoutNagle(client: MqttClient): MqttClient {
  const apply = () => {
    const stream = client.stream as { setNoDelay?: (noDelay: boolean) => unknown } | undefined;
    stream?.setNoDelay?.(true);
  };
  client.on('connect', apply);
  apply();
  return client;
}
