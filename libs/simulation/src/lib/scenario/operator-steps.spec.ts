import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { judgeScenario } from './judge-scenario';
import { MAIN_TARGET } from './operator-steps';
import {
  OperatorRunner,
  missingTargets,
  mismatch,
  substitute,
  type ActionResult,
} from './operator-runner';
import { formatScenarioSummary } from './scenario-report';
import { ScenarioError, loadScenarioFile, parseScenario, type Scenario } from './scenario-schema';

const ROOT = join(__dirname, '../../../../..');
const base = {
  name: 't',
  title: 'T',
  registry: 'r',
  site: 'plant-1',
  duration: '20s',
  background: false,
  users: { zhang: { password: 'vigil-demo' }, wang: { passwordEnv: 'WANG_PASSWORD' } },
};
const scenario = (extra: Record<string, unknown>): Scenario => parseScenario({ ...base, ...extra });
const problemsOf = (extra: Record<string, unknown>): string => {
  try {
    scenario(extra);
  } catch (error) {
    if (error instanceof ScenarioError) return error.problems.join('\n');
    throw error;
  }
  throw new Error('expected a ScenarioError');
};

describe('operator steps: parsing', () => {
  it('reads a story of steps with users, saved names, relative times and expectations', () => {
    const parsed = scenario({
      targets: ['city'],
      config: { VIGIL_HAZARD_ESCALATE_HOURS: '0.0005' },
      steps: [
        {
          at: '1s',
          as: 'zhang',
          within: '20s',
          alarm: { device: 'gc-tf-01', rule: 'gas-l2', do: 'acknowledge' },
          save: 'leak',
        },
        {
          at: '1s',
          as: 'zhang',
          alarm: { ref: 'leak', do: 'dispose', disposition: 'real-event', note: 'found' },
        },
        {
          at: '2s',
          as: 'zhang',
          hazard: { do: 'report', alarm: 'leak', title: 'Leak', level: 'general' },
          expect: { status: 201, match: { state: 'reported' } },
          save: 'h1',
        },
        {
          at: '2s',
          as: 'wang',
          target: 'city',
          hazard: {
            do: 'assign',
            id: 'h1',
            assignee: 'zhang',
            plan: {
              responsible: 'r',
              measures: 'm',
              funds: 0,
              deadline: '2s',
              contingencyPlan: 'c',
            },
          },
        },
        {
          at: '3s',
          as: 'zhang',
          permit: {
            do: 'request',
            kind: 'hot-work',
            title: 'weld',
            area: 'reactor-unit',
            for: '2h',
            workers: ['tag-004'],
            guardian: 'g',
            limits: { maxLel: 10 },
          },
          save: 'p1',
        },
        {
          at: '4s',
          as: 'zhang',
          shift: { do: 'start', room: 'control-room', lead: 'zhang', plannedEnd: '8h' },
        },
      ],
    });
    const [ack, , report, assign, permit, shift] = parsed.steps;
    expect(ack).toMatchObject({ at: 1000, as: 'zhang', within: 20_000, save: 'leak' });
    expect(report?.expect).toEqual({ status: 201, match: { state: 'reported' } });
    expect(assign?.target).toBe('city');
    expect(assign?.hazard?.plan?.deadline).toBe(2000);
    expect(permit?.permit).toMatchObject({ from: 0, for: 7_200_000 });
    expect(shift?.shift?.plannedEnd).toBe(28_800_000);
    expect(parsed.config).toEqual({ VIGIL_HAZARD_ESCALATE_HOURS: '0.0005' });
  });

  it('refuses steps that cannot be played, each with its path', () => {
    const problems = problemsOf({
      steps: [
        { at: '1s', hazard: { do: 'report', title: 'x', level: 'general' } },
        { at: '1s', as: 'zhang', alarm: { ref: 'x', do: 'dispose', disposition: 'real-event' } },
        { at: '1s', as: 'zhang', telemetry: { device: 'gc-tf-01', values: { lel: 5 } } },
        { at: '1s', as: 'zhang', permit: { do: 'request', kind: 'hot-work' } },
        { at: '1s', as: 'zhang', shift: { do: 'accept', seen: 'everything' } },
        { at: '1s', as: 'zhang', hazard: { id: 'x' }, alarm: { device: 'gc-tf-01' } },
      ],
    });
    expect(problems).toContain('steps.0: a hazard step needs as: (the user acting)');
    expect(problems).toContain('steps.1.alarm: alarm dispose needs note');
    expect(problems).toContain('steps.2: as belongs to operator steps');
    expect(problems).toContain('steps.3.permit: permit request needs area');
    expect(problems).toContain('steps.4.shift.seen');
    expect(problems).toContain('steps.5: a step does exactly one thing');
    // Checked across steps once every step is valid on its own.
    const story = problemsOf({
      steps: [
        { at: '1s', as: 'nobody', alarm: { device: 'gc-tf-01' } },
        { at: '1s', as: 'zhang', target: 'city', alarm: { device: 'gc-tf-01' } },
        { at: '1s', as: 'zhang', hazard: { do: 'close', id: 'later' } },
        {
          at: '2s',
          as: 'zhang',
          hazard: { do: 'report', title: 'x', level: 'general' },
          save: 'later',
        },
      ],
    });
    expect(story).toContain('steps.0: user nobody is not in users');
    expect(story).toContain('steps.1: target city is not in targets (main or none declared)');
    expect(story).toContain('steps.2: later is not saved by an earlier step');
    expect(problemsOf({ users: { li: { password: 'a', passwordEnv: 'B' } } })).toContain(
      'users.li: a user has a password or a passwordEnv',
    );
    expect(problemsOf({ targets: ['main'] })).toContain('targets: main is implicit');
  });

  it('the library scenario parses: the day at the plant', () => {
    const day = loadScenarioFile(join(ROOT, 'simulators/scenarios/day-at-the-plant.yaml'));
    expect(OperatorRunner.stepsOf(day).length).toBeGreaterThan(20);
    expect(day.config['VIGIL_HAZARD_ESCALATE_HOURS']).toBe('0.0005');
    expect(day.targets).toEqual(['city']);
    const main = new Map([[MAIN_TARGET, { url: 'http://x' }]]);
    expect(missingTargets(day, main)).toEqual([
      'target city: no URL given (--target city=http://…)',
    ]);
    expect(missingTargets(day, main, ['city'])).toEqual([]);
    expect(missingTargets(day, main, ['county'])).toEqual([
      'target city: no URL given (--target city=http://…)',
      '--without county: not a target of day-at-the-plant (city)',
    ]);
    expect(missingTargets({ ...day, targets: ['city'] }, new Map())).toEqual([
      'target main: no URL given (--target main=http://…)',
      'target city: no URL given (--target city=http://…)',
    ]);
  });
});

describe('operator steps: matching answers', () => {
  const hazard = {
    state: 'closed',
    no: 3,
    tags: ['a', 'b'],
    history: [
      { action: 'report', by: 'zhang' },
      { action: 'assign', by: 'wang' },
      { action: 'close', by: 'wang' },
    ],
    message: 'STOP WORK: permit No. 3 (hot-work)',
  };

  it('matches objects by subset, arrays in order, scalars by equality, and the two operators', () => {
    expect(mismatch(hazard, { state: 'closed' })).toBeUndefined();
    expect(mismatch(hazard, { history: [{ by: 'zhang' }, { action: 'close' }] })).toBeUndefined();
    expect(
      mismatch(hazard, { message: { contains: 'No. 3' }, no: { atLeast: 2 } }),
    ).toBeUndefined();
    expect(mismatch(hazard, { tags: { contains: 'b' } })).toBeUndefined();
    expect(mismatch(hazard, { message: { contains: ['STOP', 'hot-work'] } })).toBeUndefined();
    expect(mismatch(hazard, { message: { contains: ['STOP', 'tag-9'] } })).toBe(
      'message: "STOP WORK: permit No. 3 (hot-work)" does not contain ["tag-9"]',
    );
    expect(mismatch(hazard, { state: 'open' })).toBe('state: "closed", expected "open"');
    expect(mismatch(hazard, { history: [{ action: 'close' }, { action: 'report' }] })).toBe(
      'history[1]: no item after #2 matches {"action":"report"}',
    );
    expect(mismatch(hazard, { no: { atLeast: 4 } })).toBe('no: 3 is not at least 4');
    expect(mismatch(hazard, { missing: { deep: 1 } })).toBe('missing: undefined is not an object');
  });

  it('substitutes saved answers into strings, and says which name or path is missing', () => {
    const saved = new Map<string, unknown>([['p', { id: 'abc', no: 3 }]]);
    expect(
      substitute({ key: 'plant-1/permit-${p.id}/stop-work', n: ['No. ${p.no}'] }, saved),
    ).toEqual({
      key: 'plant-1/permit-abc/stop-work',
      n: ['No. 3'],
    });
    expect(() => substitute('${q.id}', saved)).toThrow('nothing saved as q');
    expect(() => substitute('${p.nope}', saved)).toThrow('p has no scalar at .nope');
  });
});

describe('OperatorRunner against an HTTP server', () => {
  let server: Server;
  let url: string;
  const seen: string[] = [];
  let hazardState = 'reported';
  let reads = 0;
  let uplinkReads = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', chunk => (body += String(chunk)));
      request.on('end', () => {
        const auth = request.headers.authorization ?? '';
        seen.push(`${request.method} ${request.url} ${auth} ${body}`);
        const reply = (status: number, value: unknown) => {
          response.writeHead(status, { 'Content-Type': 'application/json' });
          response.end(JSON.stringify(value));
        };
        if (request.url === '/api/v1/auth/login') {
          const { username, password } = JSON.parse(body) as Record<string, string>;
          return password === `${username}-pw`
            ? reply(200, { token: `t-${username}` })
            : reply(401, { message: 'bad credentials' });
        }
        if (request.url?.startsWith('/api/v1/alarms?since='))
          return reply(200, [
            // Raised before this run (someone else's), then the run's own, then another device's.
            {
              id: 'a-old',
              siteId: 'plant-1',
              deviceId: 'gc-tf-01',
              ruleId: 'gas-l2',
              detectedAt: 1,
            },
            {
              id: 'a-l1',
              siteId: 'plant-1',
              deviceId: 'gc-tf-01',
              ruleId: 'gas-l1',
              detectedAt: 1,
            },
            {
              id: 'a-new',
              siteId: 'plant-1',
              deviceId: 'gc-tf-01',
              ruleId: 'gas-l2',
              detectedAt: Date.now(),
            },
            {
              id: 'a-other',
              siteId: 'plant-1',
              deviceId: 'gc-tf-02',
              ruleId: 'gas-l2',
              detectedAt: Date.now(),
            },
          ]);
        if (request.url === '/api/v1/alarms/a-new/dispose') return reply(200, { id: 'a-new' });
        if (request.url === '/api/v1/uplink/enterprises') {
          uplinkReads += 1;
          // The upper restarted before the first read (the session is gone): log in again.
          if (uplinkReads === 1) return reply(401, { message: 'a valid token is required' });
          // The hazard arrives at the upper on the third read.
          return reply(200, [
            { enterpriseCode: '91310000MA1K4XY83C', hazards: [] },
            {
              enterpriseCode: '91310000MA1K4XY83B',
              alarms: [],
              hazards:
                uplinkReads >= 3
                  ? [
                      { hazardId: 'h-other', state: 'closed', steps: [] },
                      { hazardId: 'h-1', state: 'reported', steps: [{ transition: 'report' }] },
                    ]
                  : [],
            },
          ]);
        }
        if (request.url === '/api/v1/hazards' && request.method === 'POST')
          return reply(201, { id: 'h-1', no: 1, state: hazardState });
        if (request.url === '/api/v1/hazards/h-1/accept')
          return auth === 'Bearer t-li' ? reply(403, { message: 'the rectifier' }) : reply(200, {});
        if (request.url === '/api/v1/hazards/h-1') {
          reads += 1;
          // Vigil's escalation arrives on the third read.
          return reply(200, {
            id: 'h-1',
            state: hazardState,
            escalation: reads >= 3 ? { level: 1 } : undefined,
          });
        }
        return reply(404, { message: 'no such path' });
      });
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise(resolve => server.close(resolve)));

  it('logs in once per user, saves answers, polls reads until they match, expects refusals, and skips after a failure', async () => {
    hazardState = 'reported';
    const story = parseScenario({
      ...base,
      users: { zhang: { password: 'zhang-pw' }, li: { passwordEnv: 'LI_PW' } },
      steps: [
        {
          at: 0,
          as: 'zhang',
          alarm: {
            device: 'gc-tf-01',
            rule: 'gas-l2',
            do: 'dispose',
            disposition: 'real-event',
            note: 'n',
          },
        },
        {
          at: 0,
          as: 'zhang',
          hazard: { do: 'report', title: 'x', level: 'general', area: 'tank-farm' },
          expect: { status: 201 },
          save: 'h',
        },
        {
          at: 0,
          as: 'zhang',
          within: '5s',
          hazard: { id: 'h' },
          expect: { match: { escalation: { level: 1 } } },
        },
        { at: 0, as: 'li', hazard: { do: 'accept', id: 'h' }, expect: { status: 403 } },
        { at: 0, as: 'li', within: '1s', hazard: { do: 'accept', id: 'h' } },
        { at: 0, as: 'zhang', hazard: { id: 'h' } },
      ],
    });
    const runner = new OperatorRunner({
      scenario: story,
      targets: new Map([[MAIN_TARGET, { url }]]),
      startedAt: Date.now(),
      env: { LI_PW: 'li-pw' },
    });
    const results = await runner.run();
    expect(results.map(result => [result.what, result.status])).toEqual([
      ['alarm dispose gc-tf-01 gas-l2 (real-event)', 'ok'],
      ['hazard report x', 'ok'],
      ['hazard read h', 'ok'],
      ['hazard accept h', 'ok'],
      ['hazard accept h', 'failed'],
      ['hazard read h', 'skipped'],
    ]);
    expect(results[2]?.attempts).toBe(3);
    expect(results[4]?.detail).toContain('HTTP 403: the rectifier');
    expect(seen).toContainEqual(
      'POST /api/v1/alarms/a-new/dispose Bearer t-zhang {"note":"n","disposition":"real-event"}',
    );
    expect(seen.filter(line => line.startsWith('POST /api/v1/auth/login'))).toHaveLength(2);
    expect(seen).toContainEqual(
      'POST /api/v1/hazards Bearer t-zhang {"title":"x","level":"general","siteId":"plant-1","areaId":"tank-farm"}',
    );
  });

  it('reads what an upper Vigil holds of the enterprise (uplink), on its target, as its user, logging in again after a restart; skips a target left out', async () => {
    hazardState = 'reported';
    uplinkReads = 0;
    const story = parseScenario({
      ...base,
      users: { zhang: { password: 'zhang-pw' }, chen: { password: 'chen-pw' } },
      targets: ['city'],
      steps: [
        {
          at: 0,
          as: 'zhang',
          hazard: { do: 'report', title: 'x', level: 'general' },
          expect: { status: 201 },
          save: 'h',
        },
        {
          at: 0,
          as: 'chen',
          target: 'city',
          within: '5s',
          uplink: { enterprise: '91310000MA1K4XY83B', hazard: 'h' },
          expect: { match: { state: 'reported', steps: [{ transition: 'report' }] } },
        },
        {
          at: 0,
          as: 'chen',
          target: 'city',
          within: '600ms',
          uplink: { enterprise: '91310000MA1K4XY83B', alarm: 'h' },
        },
      ],
    });
    const heard: string[] = [];
    const run = (without?: string[]) =>
      new OperatorRunner({
        scenario: story,
        targets: new Map([
          [MAIN_TARGET, { url }],
          ['city', { url }],
        ]),
        startedAt: Date.now(),
        ...(without ? { without } : {}),
        onAction: async result => {
          heard.push(`${result.target} ${result.status}`);
        },
      }).run();
    const results = await run();
    expect(results.map(result => [result.what, result.target, result.status])).toEqual([
      ['hazard report x', 'main', 'ok'],
      ['uplink read 91310000MA1K4XY83B hazard h', 'city', 'ok'],
      ['uplink read 91310000MA1K4XY83B alarm h', 'city', 'failed'],
    ]);
    expect(results[1]?.attempts).toBe(3);
    expect(
      seen.filter(line => line.startsWith('POST /api/v1/auth/login') && line.includes('chen')),
    ).toHaveLength(2);
    expect(results[2]?.detail).toContain(
      'HTTP 404: alarms h-1 of 91310000MA1K4XY83B not at this Vigil (yet)',
    );
    expect(heard).toEqual(['main ok', 'city ok', 'city failed']);
    expect(seen).toContainEqual('GET /api/v1/uplink/enterprises Bearer t-chen ');

    heard.length = 0;
    seen.length = 0;
    const alone = await run(['city']);
    expect(alone.map(result => [result.target, result.status, result.detail])).toEqual([
      ['main', 'ok', 'HTTP 201, No. 1 reported'],
      ['city', 'skipped', 'target city left out (--without city)'],
      ['city', 'skipped', 'target city left out (--without city)'],
    ]);
    expect(heard).toEqual(['main ok']);
  });

  it('refuses an uplink read that names two things or a bad enterprise code', () => {
    const problems = problemsOf({
      users: { chen: { password: 'x' } },
      steps: [
        { at: 0, as: 'chen', uplink: { enterprise: 'not-a-code', realtime: 'a', hazard: 'b' } },
      ],
    });
    expect(problems).toContain('not a 统一社会信用代码');
    expect(problems).toContain('an uplink read names at most one of alarm, hazard, realtime');
    expect(problems).toContain('b is not saved by an earlier step');
  });

  it('finds only alarms decided during the run: an older one is someone else’s', async () => {
    const story = parseScenario({
      ...base,
      users: { zhang: { password: 'zhang-pw' } },
      steps: [
        { at: 0, as: 'zhang', within: '600ms', alarm: { device: 'gc-tf-01', rule: 'gas-l1' } },
      ],
    });
    const [result] = await new OperatorRunner({
      scenario: story,
      targets: new Map([[MAIN_TARGET, { url }]]),
      startedAt: Date.now(),
    }).run();
    expect(result?.status).toBe('failed');
    expect(result?.detail).toContain('no alarm gc-tf-01 gas-l1 raised yet');
  });

  it('fails at once on a wrong password or an action that went through instead of being refused', async () => {
    const story = parseScenario({
      ...base,
      users: { zhang: { password: 'wrong' }, ok: { password: 'ok-pw' } },
      steps: [
        {
          at: 0,
          as: 'ok',
          hazard: { do: 'report', title: 'x', level: 'general' },
          expect: { status: 409 },
        },
      ],
    });
    const refused = await new OperatorRunner({
      scenario: story,
      targets: new Map([[MAIN_TARGET, { url }]]),
      startedAt: Date.now(),
    }).run();
    expect(refused.map(result => [result.status, result.attempts])).toEqual([['failed', 1]]);
    expect(refused[0]?.detail).toContain('HTTP 201 (expected 409)');
    const login = await new OperatorRunner({
      scenario: { ...story, steps: story.steps.map(step => ({ ...step, as: 'zhang' })) },
      targets: new Map([[MAIN_TARGET, { url }]]),
      startedAt: Date.now(),
    }).run();
    expect(login[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(login[0]?.detail).toContain('login as zhang on main: HTTP 401 bad credentials');
  });
});

describe('operator steps in the verdict and the report', () => {
  const action = (extra: Partial<ActionResult>): ActionResult => ({
    step: 0,
    atMs: 0,
    target: MAIN_TARGET,
    as: 'wang',
    what: 'hazard accept h',
    status: 'ok',
    doneAtMs: 1200,
    attempts: 1,
    detail: 'HTTP 200, No. 1 accepted',
    ...extra,
  });

  it('fails the run on a failed step, prints every step ok/FAILED/SKIPPED in order', () => {
    const actions = [
      action({}),
      action({ step: 1, as: 'li', target: 'city', status: 'failed', detail: 'HTTP 409: closed' }),
      action({ step: 2, status: 'skipped', doneAtMs: null, detail: 'an earlier step failed' }),
    ];
    const verdict = judgeScenario({
      scenario: scenario({}),
      raises: [],
      startedAt: 0,
      knownRules: new Set(),
      publishedAt: new Map(),
      actions,
      readings: { sent: 0, expectedStored: 0, stored: null },
    });
    expect(verdict.passed).toBe(false);
    expect(verdict.failures).toEqual([
      'failed: step 1 hazard accept h as li on city (HTTP 409: closed)',
    ]);
    const lines = formatScenarioSummary({
      kind: 'scenario',
      name: 't',
      title: 'T',
      startedAt: new Date(0).toISOString(),
      durationMs: 1,
      gateway: 'http://x',
      verdict,
      messages: { readings: 0, events: 0, statuses: 0, raw: 0, background: 0 },
      raises: [],
      notes: [],
    }).split('\n');
    expect(lines.slice(1, 4)).toEqual([
      '  ok             1.2s  wang     hazard accept h: HTTP 200, No. 1 accepted',
      '  FAILED         1.2s  li@city  hazard accept h: HTTP 409: closed',
      '  SKIPPED           –  wang     hazard accept h: an earlier step failed',
    ]);
    expect(lines.at(-1)).toBe('FAILED: 1 problem(s)');
  });
});
