import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

import { parse } from 'yaml';

import {
  type CheckedRegistry,
  RegistryError,
  buildRegistry,
  checkRegistry,
  type Registry,
  type RegistrySource,
} from '@vigil/registry';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Reads every `.yaml`, `.yml` and `.json` file of a directory (or one file) as a registry. */
export function loadRegistry(path: string): Registry {
  return buildRegistry(readRegistrySources(path));
}

/** The parsed documents of a registry directory or file; throws RegistryError listing every unreadable one. */
export function readRegistrySources(path: string): RegistrySource[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter(file => EXTENSIONS.has(extname(file)))
          .sort()
          .map(file => join(path, file))
      : [path];
  } catch (error) {
    throw new RegistryError([`${path}: cannot read (${(error as Error).message})`]);
  }
  if (files.length === 0) throw new RegistryError([`${path}: no .yaml, .yml or .json files`]);
  const sources: RegistrySource[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      const text = readFileSync(file, 'utf8');
      const content: unknown = extname(file) === '.json' ? JSON.parse(text) : parse(text);
      // An empty file is most often a truncated save: refused, not read as "no devices".
      if (content === null || content === undefined) problems.push(`${file}: the file is empty`);
      else sources.push({ source: file, content });
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  if (problems.length > 0) throw new RegistryError(problems);
  return sources;
}

/** `checkRegistry` of a registry directory or file (see `loadRegistry`). */
export function loadCheckedRegistry(path: string): CheckedRegistry {
  return checkRegistry(readRegistrySources(path));
}
