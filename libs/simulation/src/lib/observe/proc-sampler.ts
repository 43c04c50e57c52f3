import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU time and resident memory of one process at one moment, read from /proc (Linux). */
export interface ProcReading {
  /** User + system CPU time, seconds. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

export interface ProcUsage {
  /** Percent of one core over the interval (200 % = both cores of a 2-core machine). */
  readonly cpuPct: number;
  readonly rssMb: number;
}

let clockTicks: number | undefined;

/** Kernel clock ticks per second (`getconf CLK_TCK`, 100 on every Linux we run on). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * Parses `/proc/<pid>/stat`: utime and stime are fields 14 and 15. The command name (field 2) is
 * in parentheses and may hold spaces or parentheses itself, so fields are counted after the last `)`.
 */
export function parseProcStat(stat: string, ticksPerSecond: number): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`cannot parse /proc stat: ${stat.slice(0, 120)}`);
  }
  return (utime + stime) / ticksPerSecond;
}

/** `VmRSS:   123456 kB` from `/proc/<pid>/status`, in bytes. */
export function parseProcStatusRss(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Reads one process; `undefined` when it is gone. */
export function readProc(pid: number): ProcReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      cpuSeconds: parseProcStat(stat, clockTicksPerSecond()),
      rssBytes: parseProcStatusRss(status),
    };
  } catch {
    return undefined;
  }
}

/**
 * Samples CPU% and RSS of named processes (Vigil, the broker, InfluxDB, Node-RED, the load
 * generator itself) between calls to {@link sample}.
 */
export class ProcSampler {
  private readonly previous = new Map<string, { reading: ProcReading; at: number }>();

  constructor(private readonly pids: Readonly<Record<string, number>>) {}

  get names(): string[] {
    return Object.keys(this.pids);
  }

  /** Usage of each process since the previous call (the first call primes and returns 0 % CPU). */
  sample(now = performance.now()): Record<string, ProcUsage | null> {
    const result: Record<string, ProcUsage | null> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const reading = readProc(pid);
      if (!reading) {
        result[name] = null;
        continue;
      }
      const before = this.previous.get(name);
      const seconds = before ? (now - before.at) / 1000 : 0;
      result[name] = {
        cpuPct:
          before && seconds > 0
            ? Math.round(((reading.cpuSeconds - before.reading.cpuSeconds) / seconds) * 1000) / 10
            : 0,
        rssMb: Math.round((reading.rssBytes / 1048576) * 10) / 10,
      };
      this.previous.set(name, { reading, at: now });
    }
    return result;
  }
}
