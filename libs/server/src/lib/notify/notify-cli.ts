import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { RegistryError } from '@vigil/registry';
import { loadRegistry } from '@vigil/registry-node';

import { alertmanagerConfig } from './alertmanager-config';
import { NotifyConfigError, loadNotifyConfig } from './notify-config';

const USAGE = `usage: npm run notify -- alertmanager-config --notify <notify.yaml> [--registry <dir>] [--out <alertmanager.yml>]
  Writes Alertmanager's configuration from the registry's organisation tree and notify.yaml
  (docs/notifications.md). Without --out it prints it. Check it with: amtool check-config <file>`;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** `npm run notify -- …`; returns the exit code. Every configuration problem is listed. */
export function runNotifyCli(argv: readonly string[], io: CliIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        notify: { type: 'string' },
        registry: { type: 'string', default: 'registry/sample' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  if (positionals[0] !== 'alertmanager-config' || !values.notify) {
    io.stderr(`${USAGE}\n`);
    return 2;
  }
  try {
    const registry = loadRegistry(values.registry);
    const yaml = alertmanagerConfig(registry.organisation, loadNotifyConfig(values.notify));
    if (values.out) {
      writeFileSync(values.out, yaml);
      io.stderr(`wrote ${values.out}\n`);
    } else {
      io.stdout(yaml);
    }
    return 0;
  } catch (error) {
    if (error instanceof NotifyConfigError || error instanceof RegistryError) {
      io.stderr(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
