import { frameOwner, summariseCpuProfile, type CpuProfile } from './cpu-profile';

const frame = (functionName: string, url = '', lineNumber = 0) => ({
  functionName,
  url,
  lineNumber,
});

/** root → main → (parse → JSON.parse), (validate); plus idle and GC samples. */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
    {
      id: 2,
      callFrame: frame('main', 'file:///app/dist/libs/server/ingest.js', 9),
      children: [3, 4],
    },
    {
      id: 3,
      callFrame: frame('parse', 'file:///app/node_modules/mqtt-packet/parser.js', 99),
      children: [7],
    },
    { id: 4, callFrame: frame('validate', 'file:///app/node_modules/zod/v4/core.cjs', 4) },
    { id: 5, callFrame: frame('(idle)') },
    { id: 6, callFrame: frame('(garbage collector)') },
    { id: 7, callFrame: frame('JSON.parse') },
  ],
  samples: [2, 3, 3, 4, 5, 5, 5, 5, 6, 7],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  startTime: 0,
  endTime: 10_000,
};

describe('summariseCpuProfile', () => {
  const summary = summariseCpuProfile(profile);

  it('leaves idle time out of the shares', () => {
    expect(summary).toMatchObject({ durationMs: 10, busyMs: 6, busyPct: 60 });
  });

  it('ranks self time and inclusive time', () => {
    expect(summary.topSelf.map(entry => [entry.name, entry.selfPct])).toEqual([
      ['parse (mqtt-packet/parser.js:100)', 33.3],
      ['main (server/ingest.js:10)', 16.7],
      ['validate (v4/core.cjs:5)', 16.7],
      ['(garbage collector)', 16.7],
      ['JSON.parse', 16.7],
    ]);
    const main = summary.topTotal.find(entry => entry.name.startsWith('main'));
    expect(main).toMatchObject({ totalPct: 83.3, owner: 'vigil' });
    expect(summary.topTotal.find(entry => entry.name.startsWith('parse'))?.totalPct).toBe(50);
  });

  it('adds self time up by package', () => {
    expect(summary.byOwner).toEqual([
      { owner: 'mqtt-packet', selfMs: 2, selfPct: 33.3 },
      { owner: 'vigil', selfMs: 1, selfPct: 16.7 },
      { owner: 'zod', selfMs: 1, selfPct: 16.7 },
      { owner: 'v8', selfMs: 1, selfPct: 16.7 },
      { owner: 'native', selfMs: 1, selfPct: 16.7 },
    ]);
  });

  it('names owners from script URLs', () => {
    expect(frameOwner('file:///x/node_modules/@nestjs/core/a.js', 'f')).toBe('@nestjs/core');
    expect(frameOwner('node:internal/timers', 'f')).toBe('node:internal');
    expect(frameOwner('', '(program)')).toBe('v8');
  });
});
