import { RegistryError } from '@vigil/registry';
import { FleetFileError, ScenarioError } from '@vigil/simulation';

import { USAGE, parseCommandLine } from './lib/cli';
import { Progress } from './lib/progress';
import { runCommand } from './lib/run-command';

/** Exit code for bad flags or bad input files, as most command-line tools do. */
const EXIT_USAGE = 2;

async function main(): Promise<void> {
  const parsed = parseCommandLine(process.argv.slice(2), process.env);
  if (!parsed.ok) {
    for (const problem of parsed.problems) process.stderr.write(`vigil-loadtest: ${problem}\n`);
    process.stderr.write(`\n${USAGE}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  if (parsed.command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  try {
    process.exitCode = await runCommand(parsed.command, {
      out: line => void process.stdout.write(`${line}\n`),
      err: line => void process.stderr.write(`${line}\n`),
      progress: new Progress(process.stderr),
    });
  } catch (error) {
    if (
      error instanceof ScenarioError ||
      error instanceof FleetFileError ||
      error instanceof RegistryError
    ) {
      for (const problem of error.problems) process.stderr.write(`vigil-loadtest: ${problem}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    // The system under test is not there (refused, unreachable, timed out): say so in one line.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (
      cause?.code ||
      /fetch failed|ECONNREFUSED|WebSocket|CONNACK|timed? ?out/i.test(String(error))
    ) {
      process.stderr.write(
        `vigil-loadtest: ${(error as Error).message}${cause?.message ? ` (${cause.message})` : ''}\n`,
      );
      process.exitCode = EXIT_USAGE;
      return;
    }
    throw error;
  }
  // Sockets of the runs are closed; timers of the libraries may linger, so leave explicitly.
  process.exit(process.exitCode ?? 0);
}

void main().catch(error => {
  process.stderr.write(`vigil-loadtest: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
