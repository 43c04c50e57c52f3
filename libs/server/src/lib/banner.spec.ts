import { DEMO_PASSWORD, DEMO_USERS } from './auth/demo-users';
import { formatBanner } from './banner';
import { CHATTY_CONTEXTS, VigilLogger, portInUseMessage } from './startup';

describe(formatBanner.name, () => {
  const base = {
    httpUrl: 'http://127.0.0.1:8080',
    mqttUrl: 'mqtt://127.0.0.1:1883',
    demoMode: true,
    simulator: true,
  };

  it('names the URLs, the demo users and how to inject a leak', () => {
    const banner = formatBanner(base);
    for (const text of [
      'http://127.0.0.1:8080/',
      '/api/docs',
      '/api/docs-json',
      '/readyz',
      'mqtt://127.0.0.1:1883',
      DEMO_PASSWORD,
      'leak gc-ru-01',
      'Ctrl+C',
    ]) {
      expect(banner).toContain(text);
    }
    for (const user of DEMO_USERS) expect(banner).toContain(`${user.id} (${user.role})`);
    expect(banner).not.toContain('restored');
  });

  it('says when alarms of an earlier run were restored, and how to start fresh', () => {
    const banner = formatBanner({ ...base, restoredAlarms: 3 });
    expect(banner).toContain('3 open alarm(s) restored from the previous run');
    expect(banner).toContain('--fresh');
    expect(banner).toContain('VIGIL_FRESH=1');
  });

  it('offers no demo users outside demo mode', () => {
    expect(formatBanner({ ...base, demoMode: false })).not.toContain(DEMO_PASSWORD);
  });
});

describe(VigilLogger.name, () => {
  const written = (level: 'log' | 'debug', context: string) => {
    const logger = new VigilLogger(true, level);
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      logger.log('Mapped {/api/v1/alarms, GET} route', context);
      return spy.mock.calls.map(call => String(call[0]));
    } finally {
      spy.mockRestore();
    }
  };

  it("keeps Nest's start-up chatter out at the default level, shows it at debug", () => {
    for (const context of CHATTY_CONTEXTS) {
      expect(written('log', context)).toEqual([]);
      expect(written('debug', context)).toHaveLength(1);
    }
    expect(written('log', 'AlarmService')).toHaveLength(1);
  });

  it('writes JSON when asked', () => {
    const [line] = written('log', 'AlarmService');
    expect(JSON.parse(line ?? '')).toMatchObject({ level: 'log', context: 'AlarmService' });
  });
});

describe(portInUseMessage.name, () => {
  it('is one line naming the port and the variable', () => {
    const message = portInUseMessage('VIGIL_MQTT_PORT', '127.0.0.1', 1883);
    expect(message).not.toContain('\n');
    expect(message).toContain('port 1883 on 127.0.0.1 is already in use');
    expect(message).toContain('set VIGIL_MQTT_PORT to a free port');
  });
});
