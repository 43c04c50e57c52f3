/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) that the summary reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface ProfileEntry {
  /** `function (file:line)` or a V8 pseudo-frame such as `(garbage collector)`. */
  readonly name: string;
  /** The npm package, `node:internal`, `vigil` (our code) or `v8`. */
  readonly owner: string;
  readonly selfMs: number;
  /** Share of the non-idle time, %. */
  readonly selfPct: number;
  /** Time with this function anywhere on the stack, ms (counted once per sample). */
  readonly totalMs: number;
  readonly totalPct: number;
}

export interface ProfileSummary {
  readonly durationMs: number;
  /** Time the thread was doing anything but waiting, ms. */
  readonly busyMs: number;
  readonly busyPct: number;
  readonly topSelf: readonly ProfileEntry[];
  readonly topTotal: readonly ProfileEntry[];
  /** Self time by owner (package), largest first. */
  readonly byOwner: readonly {
    readonly owner: string;
    readonly selfMs: number;
    readonly selfPct: number;
  }[];
}

/** Which package a frame belongs to, from its script URL. */
export function frameOwner(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? 'v8' : 'native';
  if (url.startsWith('node:')) return 'node:internal';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? 'unknown');
  }
  return 'vigil';
}

function frameName(frame: CpuProfile['nodes'][number]['callFrame']): string {
  if (frame.url === '') return frame.functionName || '(anonymous)';
  const file = frame.url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/');
  return `${frame.functionName || '(anonymous)'} (${file}:${frame.lineNumber + 1})`;
}

const IDLE = new Set(['(idle)', '(program)']);

/**
 * Self and inclusive time per function over a whole profile, biggest first, idle time left out
 * (percentages are of busy time, so they say where the work goes, not how busy the process was).
 */
export function summariseCpuProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map(node => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<string, number>();
  const totalUs = new Map<string, number>();
  const owners = new Map<string, string>();
  const ownerUs = new Map<string, number>();
  let busyUs = 0;
  let allUs = 0;
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    allUs += delta;
    const node = byId.get(nodeId);
    if (!node) return;
    const name = frameName(node.callFrame);
    if (IDLE.has(name)) return;
    busyUs += delta;
    selfUs.set(name, (selfUs.get(name) ?? 0) + delta);
    const owner = frameOwner(node.callFrame.url, node.callFrame.functionName);
    owners.set(name, owner);
    ownerUs.set(owner, (ownerUs.get(owner) ?? 0) + delta);
    const onStack = new Set<string>();
    for (
      let cursor: number | undefined = nodeId;
      cursor !== undefined;
      cursor = parent.get(cursor)
    ) {
      const frame = byId.get(cursor);
      if (!frame || frame.callFrame.functionName === '(root)') continue;
      const frameKey = frameName(frame.callFrame);
      if (onStack.has(frameKey)) continue;
      onStack.add(frameKey);
      owners.set(frameKey, frameOwner(frame.callFrame.url, frame.callFrame.functionName));
      totalUs.set(frameKey, (totalUs.get(frameKey) ?? 0) + delta);
    }
  });
  const pct = (us: number): number => (busyUs > 0 ? Math.round((1000 * us) / busyUs) / 10 : 0);
  const ms = (us: number): number => Math.round(us / 100) / 10;
  const entry = (name: string): ProfileEntry => ({
    name,
    owner: owners.get(name) ?? 'unknown',
    selfMs: ms(selfUs.get(name) ?? 0),
    selfPct: pct(selfUs.get(name) ?? 0),
    totalMs: ms(totalUs.get(name) ?? 0),
    totalPct: pct(totalUs.get(name) ?? 0),
  });
  const durationUs = allUs || profile.endTime - profile.startTime;
  return {
    durationMs: ms(durationUs),
    busyMs: ms(busyUs),
    busyPct: durationUs > 0 ? Math.round((1000 * busyUs) / durationUs) / 10 : 0,
    topSelf: [...selfUs.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name]) => entry(name)),
    topTotal: [...totalUs.entries()]
      .filter(([name]) => !name.startsWith('(') || name === '(garbage collector)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name]) => entry(name)),
    byOwner: [...ownerUs.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([owner, us]) => ({ owner, selfMs: ms(us), selfPct: pct(us) })),
  };
}
