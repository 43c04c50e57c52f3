/**
 * The sample recordings under `tools/replay/samples/`, generated (deterministically) for the
 * sample registry `registry/sample` (site plant-1). `npm`-free regeneration:
 * `SWC_NODE_PROJECT=tools/replay/tsconfig.json node -r @swc-node/register tools/replay/src/generate-samples.ts`;
 * the spec checks that the committed files are what this code produces.
 */

/** 2025-11-23T08:00:00Z */
export const SAMPLE_START = Date.UTC(2025, 10, 23, 8, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Small repeatable noise of ±amplitude (no Math.random: the file must not change). */
function noise(index: number, amplitude: number): number {
  const pattern = [0, 0.4, -0.3, 0.1, -0.5, 0.3, 0.2, -0.2, 0.5, -0.1];
  return (pattern[index % pattern.length] as number) * amplitude * 2;
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * 15 minutes of plant-1 from 08:00Z, JSON Lines:
 *
 * - `gc-tf-01` (pinned MQTT telemetry, every 5 s, received 150 ms later): a gas leak, clean air
 *   until 08:03, a ramp to 60 %LEL by 08:06, held 2 min, dying away by 08:10;
 * - `gc-tf-02` (normalised readings, every 5 s): a detector by a vent that a gust pushes over L1
 *   for 10 s every 45 s between 08:04 and 08:08 (a flapping detector);
 * - `fp-main` (pinned MQTT events): a fire on loop 1 address 23 at 08:12, the panel reset at 08:14;
 * - `gc-tf-01` sends its retained `online` status at start.
 */
export function leakAndFlapperRecording(): string {
  /** [receive time, line]: a recording is in arrival order. */
  const lines: Array<[number, string]> = [];
  const mqtt = (deviceId: string, kind: string, payload: unknown, receivedAt: number) =>
    lines.push([
      receivedAt,
      JSON.stringify({ topic: `vigil/v1/plant-1/${deviceId}/${kind}`, payload, receivedAt }),
    ]);
  mqtt('gc-tf-01', 'status', { online: true, ts: SAMPLE_START }, SAMPLE_START);
  const end = SAMPLE_START + 15 * MINUTE;
  let index = 0;
  for (let ts = SAMPLE_START; ts < end; ts += 5 * SECOND, index += 1) {
    const t = ts - SAMPLE_START;
    mqtt(
      'gc-tf-01',
      'telemetry',
      { ts, seq: index, values: { lel: round(leak(t) + Math.abs(noise(index, 0.5))) } },
      ts + 150,
    );
    lines.push([
      ts + 2_000,
      JSON.stringify({
        siteId: 'plant-1',
        deviceId: 'gc-tf-02',
        ts: ts + 2_000,
        values: { lel: round(vent(t + 2_000) + Math.abs(noise(index + 3, 0.5))) },
      }),
    ]);
    if (t === 12 * MINUTE) {
      mqtt('fp-main', 'event', { ts, code: 'fire', detail: { loop: 1, address: 23 } }, ts + 80);
    }
    if (t === 14 * MINUTE) mqtt('fp-main', 'event', { ts, code: 'reset' }, ts + 80);
  }
  lines.sort(([a], [b]) => a - b); // stable: equal times keep their order
  return `${lines.map(([, line]) => line).join('\n')}\n`;
}

/** %LEL at `t` ms after 08:00 at gc-tf-01. */
function leak(t: number): number {
  if (t < 3 * MINUTE) return 0;
  if (t < 6 * MINUTE) return (60 * (t - 3 * MINUTE)) / (3 * MINUTE);
  if (t < 8 * MINUTE) return 60;
  if (t < 10 * MINUTE) return 60 * (1 - (t - 8 * MINUTE) / (2 * MINUTE));
  return 0;
}

/** %LEL at `t` ms after 08:00 at gc-tf-02: 27 for 10 s of every 45 s from 08:04 to 08:08. */
function vent(t: number): number {
  if (t < 4 * MINUTE || t >= 8 * MINUTE) return 3;
  return (t - 4 * MINUTE) % (45 * SECOND) < 10 * SECOND ? 27 : 12;
}

/**
 * 25 hours of `gc-tf-03` from 2025-11-22T07:00Z, CSV, every 28 s: a detector whose reading
 * froze at 12.3 %LEL (a stuck sensor: it still reports, so it is not offline).
 */
export function stuckSensorRecording(): string {
  const rows = ['ts,siteId,deviceId,metric,value'];
  const start = SAMPLE_START - 25 * HOUR;
  for (let ts = start; ts <= SAMPLE_START; ts += 28 * SECOND) {
    rows.push(`${ts},plant-1,gc-tf-03,lel,12.3`);
  }
  return `${rows.join('\n')}\n`;
}
