import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

import { Logger } from '@nestjs/common';

/** Where a journal's failed and recovered writes are reported (JournalStatus: metric, /readyz). */
export interface JournalStatusSink {
  failed(journal: string, error: JournalWriteError): void;
  succeeded(journal: string): void;
}

export interface JsonlJournalOptions<E = unknown> {
  /** Names the journal in the log, the metric and /readyz (`alarms`, `hazards`). */
  readonly name: string;
  readonly status?: JournalStatusSink | undefined;
  /** An entry's line (default JSON.stringify): the alarm journal reuses its alarms' JSON. */
  readonly serialise?: ((entry: E) => string) | undefined;
}

/** An append that is not on disk (write or fdatasync failed): the caller must not announce it. */
export class JournalWriteError extends Error {
  constructor(
    readonly journal: string,
    readonly path: string,
    readonly reason: unknown,
  ) {
    super(
      `${journal} journal ${path}: entries NOT made durable (${(reason as Error)?.message ?? String(reason)})`,
    );
    this.name = 'JournalWriteError';
  }
}

/**
 * An append-only JSON-lines file made durable entry by entry: the alarm journal's and the hazard
 * ledger's storage. Each `append` writes its lines with one write() and one fdatasync (group
 * commit) before it returns; `replay` reads the file back in order, skipping (and counting) an
 * unparseable line, which is a torn last line after a crash mid-write (never acknowledged, since
 * its fdatasync had not returned); `compact` rewrites the file to what the caller keeps (new
 * file, fsync, rename, fsync of the directory) and opens it for appends.
 *
 * A failed write or fdatasync is counted (`writeErrors`), logged, reported to `status`, and thrown
 * to the caller as a JournalWriteError: the step it carried did not happen.
 */
export class JsonlJournal<E> {
  private readonly logger: Logger;
  private fd: number | undefined;
  private errors = 0;
  private failing = false;

  constructor(
    readonly path: string,
    private readonly options: JsonlJournalOptions<E>,
  ) {
    this.logger = new Logger(`JsonlJournal:${options.name}`);
  }

  /** Failed appends since construction. */
  get writeErrors(): number {
    return this.errors;
  }

  /** Hands every whole entry to `fold`, in file order. */
  replay(fold: (entry: E) => void): { entries: number; skipped: number } {
    mkdirSync(dirname(this.path), { recursive: true });
    let entries = 0;
    let skipped = 0;
    if (!existsSync(this.path)) return { entries, skipped };
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (line.length === 0) continue;
      let entry: E;
      try {
        entry = JSON.parse(line) as E;
      } catch {
        skipped += 1;
        continue;
      }
      entries += 1;
      fold(entry);
    }
    return { entries, skipped };
  }

  /** Rewrites the file to exactly `entries` (atomically, durably) and opens it for appends. */
  compact(entries: readonly E[]): void {
    this.close();
    mkdirSync(dirname(this.path), { recursive: true });
    const compacted = `${this.path}.compact`;
    const fd = openSync(compacted, 'w');
    try {
      if (entries.length > 0) writeAll(fd, this.lines(entries));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(compacted, this.path);
    const dir = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.fd = openSync(this.path, 'a');
  }

  /** Appends entries and returns once they are on disk; throws JournalWriteError when not. */
  append(entries: readonly E[]): void {
    if (entries.length === 0) return;
    if (this.fd === undefined) throw new Error(`${this.options.name} journal is not open`);
    try {
      writeAll(this.fd, this.lines(entries));
      fdatasyncSync(this.fd);
    } catch (reason) {
      this.errors += 1;
      this.failing = true;
      const error = new JournalWriteError(this.options.name, this.path, reason);
      this.logger.error(`${error.message}; ${this.errors} failed append(s) since start`);
      this.options.status?.failed(this.options.name, error);
      throw error;
    }
    if (this.failing) {
      this.failing = false;
      this.logger.warn(`${this.options.name} journal ${this.path}: appends durable again`);
      this.options.status?.succeeded(this.options.name);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private lines(entries: readonly E[]): Buffer {
    const serialise = this.options.serialise ?? JSON.stringify;
    return Buffer.from(`${entries.map(entry => serialise(entry)).join('\n')}\n`);
  }
}

/** write() may write less than asked (a full disk part-way): the rest, or the error. */
function writeAll(fd: number, data: Buffer): void {
  for (let offset = 0; offset < data.length;)
    offset += writeSync(fd, data, offset, data.length - offset);
}
