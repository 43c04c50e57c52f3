import { runNotifyCli } from '@vigil/server';

// `npm run notify -- alertmanager-config --notify notify.yaml --registry registry/ --out alertmanager.yml`
process.exitCode = runNotifyCli(process.argv.slice(2), {
  stdout: text => process.stdout.write(text),
  stderr: text => process.stderr.write(text),
});
