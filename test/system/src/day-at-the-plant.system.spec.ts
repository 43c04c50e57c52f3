import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Alarm, Hazard, UplinkEnterprise, UplinkStatus } from '@vigil/contracts';
import {
  formatScenarioSummary,
  loadScenarioFile,
  runScenario,
  type ActionResult,
} from '@vigil/simulation';
import { startInfluxd, waitFor, type InfluxHandle } from '@vigil/testing';

import { requireBuildAndBrowser, stop } from './console-browser';
import {
  killVigil as kill,
  startVigil as start,
  uplinkItems,
  type VigilInstance as Instance,
  startUplinkPair,
  UPLINK_ENTERPRISE_CODE as ENTERPRISE_CODE,
} from './vigil-instances';
import { REPO_ROOT, SAMPLE_REGISTRY, loginAs } from './support';

/** What this test reads of /readyz. */
interface Readiness {
  readonly status: string;
  readonly checks: Readonly<Record<string, boolean>>;
  readonly details?: { readonly uplink?: UplinkStatus };
}

async function readiness(httpUrl: string): Promise<{ status: number; body: Readiness }> {
  const response = await fetch(`${httpUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as Readiness };
}

/**
 * The scenario library's day at a plant (issue 15), played by the scenario runner against an
 * enterprise Vigil that forwards to a city Vigil above it (two built all-in-one processes, each
 * with its embedded broker, one real influxd): devices over MQTT, people through the HTTP API as
 * the demo users. A leak → L2 → acknowledged → disposed as a real event → hazard → assigned →
 * rectified → accepted by another user → closed; an overdue hazard reminded and escalated to the
 * city; a hot-work permit stopped by a P1 stop-work alarm; the shift handed over. The city's
 * supervisor reads what arrived there (the scenario's `target: city` steps).
 *
 * The link is cut from here, around the scenario's timeline (the runner's `onAction` hook, which
 * it awaits before the next step): once chen has seen the leak's hazard in work at the city, the
 * city is killed by PID, so the hazard's rectification, acceptance and closing, the overdue
 * hazard's report, reminder and escalations are made while it is down; the enterprise's /readyz
 * must show the backlog; once chen has read the escalation at the enterprise, the city is started
 * again on the same data directory and port. At the end every alarm and hazard of the enterprise
 * must be at the city with exactly the same transitions, in order: nothing lost, nothing doubled.
 */
describe('scenario day-at-the-plant: an enterprise Vigil and the city above it, the link cut mid-day', () => {
  let work: string;
  let influx: InfluxHandle | undefined;
  let city: Instance | undefined;
  let enterprise: Instance | undefined;
  /** The city's restart, once begun (awaited before stopping, so that no process outlives us). */
  let restored: Promise<void> | undefined;
  const scenario = loadScenarioFile(join(REPO_ROOT, 'simulators/scenarios/day-at-the-plant.yaml'));

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-day-at-the-plant-'));
    influx = await startInfluxd();
    ({ city, enterprise } = await startUplinkPair({
      work,
      node: 'park-chem',
      common: {
        VIGIL_INFLUX_MODE: 'external',
        VIGIL_INFLUX_URL: influx.url,
        VIGIL_WRITE_FLUSH_MS: '50',
        VIGIL_REGISTRY: SAMPLE_REGISTRY,
      },
      enterpriseEnv: { ...scenario.config, VIGIL_INFLUX_DB: 'vigil' },
    }));
  }, 90_000);

  afterAll(async () => {
    await restored;
    await stop(enterprise?.process);
    await stop(city?.process);
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('plays every step ok at both Vigils; the city holds every transition once, across the cut', async () => {
    if (!city || !enterprise || !influx) throw new Error('not started');
    const lower = enterprise;
    let upper: Instance = city;

    // The cut and the restore, hooked into the story (awaited by the runner before its next step).
    let cutAfter: string | undefined;
    let duringCut: Promise<{ status: number; body: Readiness }> | undefined;
    let restoreFailed: unknown;
    const onAction = async (result: ActionResult): Promise<void> => {
      if (result.status !== 'ok') return;
      if (
        cutAfter === undefined &&
        result.target === 'city' &&
        result.what.endsWith('hazard leakHazard')
      ) {
        cutAfter = result.what;
        await kill(upper);
        // The leak's rectification, acceptance and closing wait in the outbox: /readyz says so.
        duringCut = waitFor(
          async () => {
            const seen = await readiness(lower.httpUrl);
            const uplink = seen.body.details?.uplink;
            return seen.status === 503 && uplink && uplink.backlog >= 3 ? seen : undefined;
          },
          { what: "the enterprise's /readyz to show the uplink's backlog", timeoutMs: 20_000 },
        );
      }
      if (restored === undefined && duringCut && result.what === 'hazard read overdueHazard') {
        restored = (async () => {
          await duringCut;
          upper = await start(upper.env);
          city = upper; // stopped in afterAll
        })().catch(error => {
          restoreFailed = error;
        });
      }
    };

    const report = await runScenario({
      scenario,
      gatewayUrl: lower.httpUrl,
      mqttUrl: lower.mqttUrl,
      targets: { city: upper.httpUrl },
      influx: { url: influx.url, database: 'vigil' },
      settleMs: 3000,
      onAction,
    });
    process.stdout.write(`${formatScenarioSummary(report)}\n`);
    await restored;
    expect(restoreFailed).toBeUndefined();
    const { verdict } = report;
    expect(verdict.actions.map(action => [action.what, action.status, action.detail])).toEqual(
      verdict.actions.map(action => [action.what, 'ok', action.detail]),
    );
    expect(verdict.actions).toHaveLength(30);
    expect(verdict.actions.filter(action => action.target === 'city')).toHaveLength(6);
    expect(verdict.results.map(result => [result.expectation.rule, result.status])).toEqual([
      ['gas-l1', 'met'],
      ['gas-l2', 'met'],
    ]);
    expect(verdict.forbiddenRaised).toEqual([]);
    expect(verdict.readings.stored).toBe(verdict.readings.expectedStored);
    expect(verdict.failures).toEqual([]);
    expect(verdict.passed).toBe(true);

    // The cut happened where the story says, and the enterprise showed it (not a silent 200).
    expect(cutAfter).toBe(`uplink read ${ENTERPRISE_CODE} hazard leakHazard`);
    const degraded = await duringCut;
    expect(degraded?.body.status).toBe('degraded');
    expect(degraded?.body.checks['uplink']).toBe(false);
    expect(degraded?.body.details?.uplink?.consecutiveFailures).toBeGreaterThan(0);
    expect(degraded?.body.details?.uplink?.lastError).toMatch(/fetch failed|ECONNREFUSED/);

    // Drained; then the exact comparison, once the enterprise has nothing more to send.
    await waitFor(
      async () => {
        const seen = await readiness(lower.httpUrl);
        return seen.status === 200 && seen.body.details?.uplink === undefined;
      },
      { what: "the enterprise's uplink backlog drained", timeoutMs: 20_000 },
    );
    const wang = await loginAs(lower.httpUrl, 'wang'); // supervisor, park-chem: the enterprise
    const chen = await loginAs(upper.httpUrl, 'chen'); // supervisor, city-demo (at the city)
    const transitionsOf = (
      entries: readonly { id: string; history: readonly { action: string }[] }[],
    ): Record<string, string[]> =>
      Object.fromEntries(entries.map(e => [e.id, e.history.map(step => step.action)]));
    const stepsOf = (
      entries: readonly { id: string; steps: readonly { transition: string }[] }[],
    ): Record<string, string[]> =>
      Object.fromEntries(entries.map(e => [e.id, e.steps.map(step => step.transition)]));
    const compare = async () => {
      const alarms = (await (await wang.call('/api/v1/alarms?since=0')).json()) as Alarm[];
      const hazards = (await (await wang.call('/api/v1/hazards')).json()) as Hazard[];
      const view = (
        (await (await chen.call('/api/v1/uplink/enterprises')).json()) as UplinkEnterprise[]
      ).find(entry => entry.enterpriseCode === ENTERPRISE_CODE);
      if (!view) throw new Error('the city does not list the enterprise');
      const sent = await uplinkItems(lower.httpUrl);
      const queued = (kind: string) => sent[`${kind}/queued`] ?? 0;
      const both = {
        alarms: {
          enterprise: transitionsOf(alarms),
          city: stepsOf(view.alarms.map(a => ({ ...a, id: a.alarmId }))),
        },
        hazards: {
          enterprise: transitionsOf(hazards),
          city: stepsOf(view.hazards.map(h => ({ ...h, id: h.hazardId }))),
        },
        received: view.received,
        // Every kind the city counts (answers to the city's orders included: none in this day).
        queued: Object.fromEntries(Object.keys(view.received).map(kind => [kind, queued(kind)])),
      };
      return { both, view, sent };
    };
    // The last transitions may still be on their way (the background's alarms clear): bounded.
    let compared = await compare();
    const until = Date.now() + 20_000;
    const settled = ({ both }: typeof compared) =>
      JSON.stringify(both.alarms.city) === JSON.stringify(both.alarms.enterprise) &&
      JSON.stringify(both.hazards.city) === JSON.stringify(both.hazards.enterprise) &&
      JSON.stringify(both.received) === JSON.stringify(both.queued);
    while (!settled(compared) && Date.now() < until) {
      await new Promise(resolve => setTimeout(resolve, 500));
      compared = await compare();
    }
    const { both, view, sent } = compared;
    const count = (entries: Record<string, string[]>) =>
      `${Object.keys(entries).length} (${Object.values(entries).flat().length} transitions)`;
    process.stdout.write(
      `city: alarms ${count(both.alarms.city)}, hazards ${count(both.hazards.city)}; ` +
        `received ${JSON.stringify(both.received)}; backlog during the cut ` +
        `${String(degraded?.body.details?.uplink?.backlog)}\n`,
    );
    // Every alarm and hazard of the enterprise, with exactly its transitions in order.
    expect(both.received).toEqual(both.queued);
    expect(both.alarms.city).toEqual(both.alarms.enterprise);
    expect(both.hazards.city).toEqual(both.hazards.enterprise);
    expect(Object.keys(both.hazards.enterprise)).toHaveLength(2);
    expect(Object.keys(both.alarms.enterprise).length).toBeGreaterThanOrEqual(3);
    // Nothing refused, no gap, every seq once.
    expect(Object.entries(sent).filter(([key]) => key.endsWith('/refused'))).toEqual([]);
    expect(view.gaps).toEqual([]);
    expect(view.acked).toBe(Object.values(view.received).reduce((sum, n) => sum + (n ?? 0), 0));
    const seqs = [...view.alarms, ...view.hazards].flatMap(entry => entry.steps.map(s => s.seq));
    expect(new Set(seqs).size).toBe(seqs.length);
  }, 180_000);
});
