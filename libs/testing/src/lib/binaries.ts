import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

// Debian installs mosquitto in /usr/sbin, which is not on every user's PATH.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of an executable, looked up on PATH and the sbin folders; undefined if none. */
export function findBinary(name: string): string | undefined {
  if (isAbsolute(name)) return isExecutable(name) ? name : undefined;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), ...EXTRA_DIRS];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Whether a test can run a binary, so that it can say why it cannot (CI installs them all). */
export function hasBinary(name: string): boolean {
  return findBinary(name) !== undefined;
}

/** Resolves a binary or throws naming the Debian package that provides it. */
export function requireBinary(name: string, debianPackage: string): string {
  const path = findBinary(name);
  if (path === undefined) {
    throw new Error(
      `${name} is not installed (looked on PATH and in ${EXTRA_DIRS.join(', ')}): ` +
        `run "apt-get install -y ${debianPackage}" (CI installs it; tests never skip without it)`,
    );
  }
  return path;
}
