import { nodeIo, runCli } from './lib/cli';

// `vigil-replay … | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = runCli(process.argv.slice(2), nodeIo());
