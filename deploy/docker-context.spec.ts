// The image's build stage compiles from exactly what the Dockerfile copies (issue 13: a missing
// `bench/` made the build die with `ENOENT … bench/src`). No Docker engine runs here, so this test
// replays the build stage: the COPY sources of the `build` stage into an empty folder, the
// repository's node_modules linked in (what `npm install` would put there), then
// `node scripts/build.mjs`, which must succeed and produce every service's entry point.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..');
const DOCKERFILE = join(__dirname, 'docker', 'Dockerfile');

// The build compiles a few hundred files on a shared, loaded machine.
jest.setTimeout(600_000);

/** The sources each `COPY` of one stage names (not `COPY --from=…`), relative to the context. */
export function copySources(dockerfile: string, stage: string): string[] {
  const sources: string[] = [];
  let inStage = false;
  for (const raw of dockerfile.split('\n')) {
    const line = raw.trim();
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      inStage = from[1]?.toLowerCase() === stage;
      continue;
    }
    if (!inStage || !/^COPY\s/i.test(line)) continue;
    const args = line.split(/\s+/).slice(1);
    if (args.some(arg => arg.startsWith('--from'))) continue;
    const paths = args.filter(arg => !arg.startsWith('--'));
    sources.push(...paths.slice(0, -1));
  }
  return sources;
}

/** What Dockerfile.dockerignore keeps out of the context, as far as the build stage cares. */
const IGNORED =
  /(^|\/)(node_modules|dist|tmp|coverage|test-output|\.nx|\.git)(\/|$)|(^|\/)\.env(\.|$)/;

describe('deploy/docker/Dockerfile build context', () => {
  const dockerfile = readFileSync(DOCKERFILE, 'utf8');

  it('copies what scripts/build.mjs compiles', () => {
    const sources = copySources(dockerfile, 'build');
    expect(sources).toEqual(expect.arrayContaining(['scripts', 'libs', 'apps', 'bench', 'tools']));
    for (const source of sources) expect(existsSync(join(REPO_ROOT, source))).toBe(true);
  });

  it('pins its base image to an exact version', () => {
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    // An exact version tag (node:20.20.2-bookworm-slim) or a digest, never a moving `node:20`.
    expect(image).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/);
  });

  it('builds from exactly what the build stage copies', async () => {
    const context = mkdtempSync(join(tmpdir(), 'vigil-docker-context-'));
    try {
      for (const source of copySources(dockerfile, 'build')) {
        cpSync(join(REPO_ROOT, source), join(context, source), {
          recursive: true,
          filter: path => !IGNORED.test(path.slice(REPO_ROOT.length + 1)),
        });
      }
      symlinkSync(join(REPO_ROOT, 'node_modules'), join(context, 'node_modules'), 'dir');
      const result = await new Promise<{ code: number | null; output: string }>(done => {
        const child = execFile(
          process.execPath,
          ['scripts/build.mjs'],
          { cwd: context, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) =>
            done({ code: error ? (error.code as number) : 0, output: `${stdout}${stderr}` }),
        );
        child.stdin?.end();
      });
      expect(result).toEqual({ code: 0, output: expect.any(String) });
      for (const service of ['ingest', 'rules', 'persister', 'gateway']) {
        expect(existsSync(join(context, 'dist', 'apps', service, 'src', 'main.js'))).toBe(true);
      }
      expect(existsSync(join(context, 'dist', 'apps', 'console', 'index.html'))).toBe(true);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
});
