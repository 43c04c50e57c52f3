import { EventEmitter } from 'node:events';

import type { MqttClient } from 'mqtt';

import { withoutNagle } from './no-delay';

describe(withoutNagle.name, () => {
  it('turns Nagle off on the current socket and on the new one after every reconnect', () => {
    const first = { setNoDelay: jest.fn() };
    const client = Object.assign(new EventEmitter(), { stream: first });
    withoutNagle(client as unknown as MqttClient);
    expect(first.setNoDelay).toHaveBeenCalledWith(true);
    const second = { setNoDelay: jest.fn() };
    client.stream = second;
    client.emit('connect');
    expect(second.setNoDelay).toHaveBeenCalledWith(true);
  });

  it('leaves a stream without sockets alone (WebSocket transports)', () => {
    const client = Object.assign(new EventEmitter(), { stream: {} });
    expect(() => withoutNagle(client as unknown as MqttClient)).not.toThrow();
  });
});
