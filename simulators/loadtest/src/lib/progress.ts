/**
 * One progress line: a bar, the time, and whatever figures the command adds, e.g.
 * `[██████░░░░░░░░░░░░░░]  30% 18s/60s | sent 9,980/s | stored 9,950/s | p99 12 ms`.
 */
export function progressLine(
  elapsedMs: number,
  totalMs: number,
  figures: readonly string[] = [],
  width = 20,
): string {
  const share = totalMs > 0 ? Math.min(1, Math.max(0, elapsedMs / totalMs)) : 1;
  const filled = Math.round(share * width);
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
  const percent = `${Math.round(share * 100)}%`.padStart(4);
  const time = `${Math.floor(elapsedMs / 1000)}s/${Math.round(totalMs / 1000)}s`;
  return [`${bar} ${percent} ${time}`, ...figures].join(' | ');
}

/** `12345.6` → `12,346`. */
export function thousands(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/**
 * Writes progress to a terminal on one line rewritten in place, or (to a file or pipe) one line
 * every `everyMs`, so logs stay readable.
 */
export class Progress {
  private lastPrinted = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly everyMs = 10_000,
  ) {}

  update(line: string, now = Date.now()): void {
    if (this.stream.isTTY) {
      this.stream.write(
        `\r${line.slice(0, (this.stream.columns || 120) - 1).padEnd((this.stream.columns || 120) - 1)}`,
      );
      return;
    }
    if (now - this.lastPrinted >= this.everyMs) {
      this.lastPrinted = now;
      this.stream.write(`${line}\n`);
    }
  }

  done(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
