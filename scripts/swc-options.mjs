// How scripts/build.mjs compiles the Node sources with SWC (decorator metadata for Nest's
// dependency injection, the tsconfig path aliases rewritten), shared with what compiles a source
// file the same way outside the build (bench/permit-reducer.mjs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** SWC options for a Node source file of the repository at `root`. */
export function nodeSwcOptions(root) {
  const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8'));
  return {
    swcrc: false,
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      baseUrl: root,
      paths: compilerOptions.paths,
    },
    module: { type: 'commonjs' },
  };
}
