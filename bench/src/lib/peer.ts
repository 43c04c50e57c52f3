import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The peer, pinned (reference/peers.md §5): Node-RED 5 needs Node 22, so 4.1.15 on Node 20. */
export const PEER_PACKAGES = ['node-red@4.1.15', 'node-red-contrib-influxdb@0.7.0'] as const;

export interface PeerInstall {
  readonly dir: string;
  readonly nodeRedMain: string;
  readonly nodeRedVersion: string;
  readonly influxNodeVersion: string;
}

function version(dir: string, name: string): string | undefined {
  const path = join(dir, 'node_modules', name, 'package.json');
  return existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version
    : undefined;
}

/**
 * Installs Node-RED and the InfluxDB nodes into `dir` (bench/.peer, ignored by git) unless the
 * pinned versions are already there. Nothing of the peer is committed: the benchmark installs it.
 */
export async function ensurePeer(dir: string, log: (line: string) => void): Promise<PeerInstall> {
  const wanted = Object.fromEntries(
    PEER_PACKAGES.map(spec => spec.split(/@(?=[^@]+$)/) as [string, string]),
  );
  const missing = Object.entries(wanted).filter(([name, v]) => version(dir, name) !== v);
  if (missing.length > 0) {
    log(`installing the Node-RED peer into ${dir}: ${PEER_PACKAGES.join(' ')}`);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        'npm',
        [
          'install',
          '--prefix',
          dir,
          ...PEER_PACKAGES,
          '--no-audit',
          '--no-fund',
          '--no-save',
          '--loglevel=error',
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
      child.once('error', reject);
      child.once('exit', code =>
        code === 0 ? resolve() : reject(new Error(`npm install exited with ${code}`)),
      );
    });
  }
  const nodeRedVersion = version(dir, 'node-red');
  const influxNodeVersion = version(dir, 'node-red-contrib-influxdb');
  if (!nodeRedVersion || !influxNodeVersion)
    throw new Error(`the Node-RED peer is not installed in ${dir}`);
  return {
    dir,
    nodeRedMain: join(dir, 'node_modules', 'node-red', 'red.js'),
    nodeRedVersion,
    influxNodeVersion,
  };
}
