import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { RegistryError, type Registry } from '@vigil/registry';
import { loadRegistry } from '@vigil/registry-node';

import { formatSignal, formatSummary, signalJson, summaryJson } from './format';
import { parseInput } from './parse-input';
import { type SetOverride, parseSet, resolveReplayRules, runReplay } from './replay';

export const USAGE = `usage: vigil-replay --registry <dir|file> --input <file> [options]

Replays a recorded stream of readings through the rules and prints the alarms it would raise,
for tuning set-points before a site goes live. Time is virtual: taken from the recording, so a
24 h file replays in seconds.

options:
  --registry <dir|file>        the site's registry (every .yaml/.yml/.json file of the folder)
  --input <file>               the recording: JSON Lines (pinned MQTT messages
                               {"topic","payload","receivedAt"} or readings
                               {"siteId","deviceId","ts","values"}) or CSV
                               ts,siteId,deviceId,metric,value
  --set [device:]rule.field=v  what-if override (repeatable), e.g. --set gas-l1.setpoint=20,
                               --set gc-tf-02:gas-l1.offDelayMs=60000
  --json                       one JSON object per line: each signal, then the summary
  --format <jsonl|csv>         input format (default: by extension, else by content)
  --tick <ms>                  virtual tick period (default 1000, as the server)
  --no-chatter-guard           show the engine's raw signals, without the chatter guard
  --watch-all                  watch every registry device for offline, not only those recorded
  -h, --help                   this text

exit codes: 0 done, 2 bad flags, registry, overrides or input (every problem is listed)`;

/** Exit code for bad flags or input, as most command-line tools do. */
export const EXIT_USAGE = 2;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly readFile: (path: string) => string;
  readonly loadRegistry: (path: string) => Registry;
}

export const nodeIo = (): CliIo => ({
  out: line => void process.stdout.write(`${line}\n`),
  err: line => void process.stderr.write(`${line}\n`),
  readFile: path => readFileSync(path, 'utf8'),
  loadRegistry: path => loadRegistry(resolve(path)),
});

/** Runs the replay command; returns the exit code. Never throws for bad input. */
export function runCli(argv: readonly string[], io: CliIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        registry: { type: 'string' },
        input: { type: 'string' },
        set: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        format: { type: 'string' },
        tick: { type: 'string' },
        'no-chatter-guard': { type: 'boolean' },
        'watch-all': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return usageError(io, [(error as Error).message]);
  }
  if (parsed.help) {
    io.out(USAGE);
    return 0;
  }

  const problems: string[] = [];
  if (!parsed.registry) problems.push('--registry: required');
  if (!parsed.input) problems.push('--input: required');
  const format = parsed.format;
  if (format !== undefined && format !== 'jsonl' && format !== 'csv') {
    problems.push(`--format: must be jsonl or csv (got "${format}")`);
  }
  const tickMs = parsed.tick === undefined ? 1000 : Number(parsed.tick);
  if (!Number.isInteger(tickMs) || tickMs < 1 || tickMs > 60_000) {
    problems.push(`--tick: must be an integer from 1 to 60000 ms (got "${parsed.tick}")`);
  }
  const overrides: SetOverride[] = [];
  for (const text of parsed.set ?? []) {
    const override = parseSet(text);
    if (typeof override === 'string') problems.push(override);
    else overrides.push(override);
  }
  if (problems.length > 0) return usageError(io, problems);

  let registry: Registry;
  try {
    registry = io.loadRegistry(parsed.registry as string);
  } catch (error) {
    const list = error instanceof RegistryError ? error.problems : [(error as Error).message];
    return fail(
      io,
      list.map(problem => `registry: ${problem}`),
    );
  }
  const resolved = resolveReplayRules(registry, overrides);
  if (resolved.errors.length > 0) return fail(io, resolved.errors);

  const inputPath = parsed.input as string;
  let text: string;
  try {
    text = io.readFile(inputPath);
  } catch (error) {
    return fail(io, [`${inputPath}: cannot read (${(error as Error).message})`]);
  }
  const hint = (format as 'jsonl' | 'csv' | undefined) ?? formatOf(inputPath);
  const input = parseInput(text, (siteId, deviceId) => registry.device(siteId, deviceId), hint);
  if (input.errors.length > 0)
    return fail(
      io,
      input.errors.map(error => `${inputPath}: ${error}`),
    );

  const result = runReplay(resolved.devices, input.records, {
    tickMs,
    chatterGuard: !parsed['no-chatter-guard'],
    watchAll: parsed['watch-all'] === true,
  });
  for (const signal of result.signals)
    io.out(parsed.json ? signalJson(signal) : formatSignal(signal));
  io.out(parsed.json ? summaryJson(result.summary) : formatSummary(result.summary));
  return 0;
}

function formatOf(path: string): 'jsonl' | 'csv' | undefined {
  const extension = extname(path).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.jsonl' || extension === '.ndjson' || extension === '.json') return 'jsonl';
  return undefined;
}

function usageError(io: CliIo, problems: readonly string[]): number {
  for (const problem of problems) io.err(`replay: ${problem}`);
  io.err('');
  io.err(USAGE);
  return EXIT_USAGE;
}

function fail(io: CliIo, problems: readonly string[]): number {
  for (const problem of problems) io.err(`replay: ${problem}`);
  return EXIT_USAGE;
}
