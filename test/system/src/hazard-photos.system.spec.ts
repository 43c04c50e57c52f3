import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Hazard, HazardPhotoUpload } from '@vigil/contracts';

import { startInfluxd, type InfluxHandle } from '@vigil/testing';

import { requireBuildAndBrowser, startBuiltVigil, stop, type BuiltVigil } from './console-browser';
import { SAMPLE_REGISTRY, loginAs } from './support';
import { hazardPng, jpegLike, webpLike } from './test-photos';

type Client = Awaited<ReturnType<typeof loginAs>>;

const MAX_BYTES = 256 * 1024; // VIGIL_HAZARD_PHOTO_MAX_MB=0.25

/**
 * Hazard photos (issue 15) on the built Vigil process, over HTTP only: upload with the bytes as
 * the body, fetch with the stored type, the same bytes again answered without a second step,
 * types told by the magic bytes, size and count bounds, a user outside the hazard's site answered
 * 404, a disk that refuses the write answered 500 with the reason and counted, and the photos
 * still there after a restart on the same data directory.
 */
describe('hazard photos: stored, served, bounded and scoped on a real Vigil process', () => {
  let work: string;
  let influx: InfluxHandle | undefined;
  let vigil: BuiltVigil | undefined;
  let env: Record<string, string>;
  let zhang: Client; // operator, ent-huaxin (plant-1)
  let wang: Client; // supervisor, park-chem (above ent-huaxin, not above ent-other)
  let chen: Client; // supervisor, city-demo (sees both enterprises)
  let hazard: Hazard;
  let other: Hazard;

  const json = async <T>(response: Response, status = 200): Promise<T> => {
    const body = (await response.json()) as T;
    if (response.status !== status)
      throw new Error(`expected HTTP ${status}, got ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };
  /** POSTs the bytes as they are, with the Content-Type a client might claim. */
  const upload = (who: Client, id: string, bytes: Buffer, type = 'image/jpeg', step?: string) =>
    who.call(`/api/v1/hazards/${id}/photos${step ? `?step=${step}` : ''}`, {
      method: 'POST',
      headers: { 'Content-Type': type },
      body: new Uint8Array(bytes),
    });
  const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const metric = async (outcome: string) => {
    const text = await (await fetch(`${vigil?.httpUrl}/metrics`)).text();
    const line = text
      .split('\n')
      .find(row => row.startsWith(`vigil_hazard_photos_total{outcome="${outcome}"}`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };

  async function login(): Promise<void> {
    if (!vigil) throw new Error('not started');
    zhang = await loginAs(vigil.httpUrl, 'zhang');
    wang = await loginAs(vigil.httpUrl, 'wang');
    chen = await loginAs(vigil.httpUrl, 'chen');
  }

  beforeAll(async () => {
    requireBuildAndBrowser();
    work = mkdtempSync(join(tmpdir(), 'vigil-photos-'));
    const registry = join(work, 'registry');
    cpSync(SAMPLE_REGISTRY, registry, { recursive: true });
    // A second enterprise under the city: chen sees it, zhang and wang do not.
    writeFileSync(
      join(registry, 'site-other.json'),
      JSON.stringify({
        organisation: [
          {
            id: 'ent-other',
            name: '其他化工 Other Chemicals',
            kind: 'enterprise',
            parent: 'city-demo',
          },
        ],
        sites: [
          {
            id: 'plant-other',
            name: 'Other plant',
            enterprise: 'ent-other',
            frame: { width: 100, height: 100 },
            areas: [],
            devices: [],
          },
        ],
      }),
    );
    influx = await startInfluxd();
    env = {
      VIGIL_INFLUX_MODE: 'external',
      VIGIL_INFLUX_URL: influx.url,
      VIGIL_REGISTRY: registry,
      VIGIL_DATA_DIR: join(work, 'data'),
      VIGIL_HAZARD_PHOTO_MAX_MB: '0.25',
      VIGIL_HAZARD_PHOTOS_MAX: '4',
      VIGIL_HAZARD_PHOTO_RESERVE_MB: '0',
    };
    vigil = await startBuiltVigil(env);
    await login();
    hazard = await json<Hazard>(
      await zhang.post('/api/v1/hazards', {
        title: '罐区 V-12 法兰泄漏 Flange leak at V-12',
        level: 'general',
        siteId: 'plant-1',
        areaId: 'tank-farm',
      }),
      201,
    );
    other = await json<Hazard>(
      await chen.post('/api/v1/hazards', {
        title: 'Other enterprise hazard',
        level: 'general',
        siteId: 'plant-other',
      }),
      201,
    );
  });

  afterAll(async () => {
    await stop(vigil?.process);
    await influx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('stores a photo as a signed step and serves it byte for byte, privately and nosniff', async () => {
    const photo = hazardPng(0);
    // The Content-Type claimed is wrong on purpose: the bytes say PNG.
    const response = await upload(zhang, hazard.id, photo, 'application/octet-stream');
    const answer = await json<HazardPhotoUpload>(response, 201);
    expect(answer).toMatchObject({
      duplicate: false,
      photo: {
        sha256: sha(photo),
        type: 'image/png',
        bytes: photo.length,
        step: 'report',
        by: 'zhang',
      },
    });
    expect(answer.hazard.history.at(-1)).toMatchObject({
      action: 'photo',
      by: 'zhang',
      role: 'operator',
      state: 'reported',
      photo: { sha256: sha(photo), type: 'image/png', step: 'report' },
    });

    // wang (the park above) sees the hazard, so the photo too.
    const fetched = await wang.call(`/api/v1/hazards/${hazard.id}/photos/${sha(photo)}`);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('image/png');
    expect(fetched.headers.get('cache-control')).toMatch(/^private\b/);
    expect(fetched.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await fetched.arrayBuffer()).equals(photo)).toBe(true);

    // A JPEG with EXIF is kept as it came: nothing stripped.
    const jpeg = jpegLike(5000);
    await json(await upload(zhang, hazard.id, jpeg, 'image/png'), 201);
    const back = await zhang.call(`/api/v1/hazards/${hazard.id}/photos/${sha(jpeg)}`);
    expect(back.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await back.arrayBuffer()).equals(jpeg)).toBe(true);

    // On disk: content-addressed, whole, no temp file left.
    const dir = join(work, 'data', 'hazards', 'photos');
    expect(readFileSync(join(dir, sha(photo).slice(0, 2), sha(photo))).equals(photo)).toBe(true);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    expect(await metric('stored')).toBe(2);
  });

  it('answers the same bytes again with the photo already there: one file, one step', async () => {
    const photo = hazardPng(0);
    const again = await json<HazardPhotoUpload>(await upload(wang, hazard.id, photo, 'image/png'));
    expect(again).toMatchObject({ duplicate: true, photo: { sha256: sha(photo), by: 'zhang' } });
    const current = await json<Hazard>(await zhang.call(`/api/v1/hazards/${hazard.id}`));
    expect(current.photoFiles?.map(p => p.sha256)).toEqual([sha(photo), sha(jpegLike(5000))]);
    expect(current.history.filter(step => step.action === 'photo')).toHaveLength(2);
    expect(await metric('duplicate')).toBe(1);
  });

  it('refuses what is not JPEG, PNG or WebP (415) and what is too large (413), whatever it claims', async () => {
    const gif = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.alloc(100)]);
    const refusedGif = await upload(zhang, hazard.id, gif, 'image/jpeg');
    expect(refusedGif.status).toBe(415);
    expect(((await refusedGif.json()) as { message: string }).message).toContain('not a JPEG');
    const html = Buffer.from('<html><script>alert(document.cookie)</script></html>');
    expect((await upload(zhang, hazard.id, html, 'image/png')).status).toBe(415);
    // JSON is parsed by the server before the photo route sees it: refused, said why.
    expect((await zhang.post(`/api/v1/hazards/${hazard.id}/photos`, { photo: 'x' })).status).toBe(
      415,
    );

    const tooLarge = await upload(zhang, hazard.id, jpegLike(MAX_BYTES), 'image/jpeg');
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { message: string }).message).toContain(
      `at most ${MAX_BYTES} bytes`,
    );
    // Far beyond the bound (past what is read and dropped): refused all the same.
    const huge = await upload(zhang, hazard.id, jpegLike(12 * MAX_BYTES), 'image/jpeg');
    expect(huge.status).toBe(413);
    // Exactly at the bound is taken.
    const atBound = webpLike(MAX_BYTES - 16);
    expect(atBound.length).toBe(MAX_BYTES);
    await json(await upload(zhang, hazard.id, atBound, 'image/webp'), 201);
    expect(await metric('refused-type')).toBe(3);
    expect(await metric('refused-size')).toBe(2);

    // The fourth photo fills the hazard (VIGIL_HAZARD_PHOTOS_MAX=4); a fifth is refused.
    await json(await upload(zhang, hazard.id, hazardPng(1)), 201);
    const fifth = await upload(zhang, hazard.id, hazardPng(2));
    expect(fifth.status).toBe(409);
    expect(((await fifth.json()) as { message: string }).message).toContain('at most 4');
    const current = await json<Hazard>(await zhang.call(`/api/v1/hazards/${hazard.id}`));
    expect(current.photoFiles).toHaveLength(4);
  });

  it('answers 404 to a user outside the hazard’s site, for upload and fetch alike', async () => {
    const photo = hazardPng(3);
    await json(await upload(chen, other.id, photo), 201);
    expect((await chen.call(`/api/v1/hazards/${other.id}/photos/${sha(photo)}`)).status).toBe(200);
    for (const who of [zhang, wang]) {
      expect((await who.call(`/api/v1/hazards/${other.id}/photos/${sha(photo)}`)).status).toBe(404);
      expect((await upload(who, other.id, hazardPng(4))).status).toBe(404);
      // Nor through a hazard they do see: a photo belongs to its hazard.
      expect((await who.call(`/api/v1/hazards/${hazard.id}/photos/${sha(photo)}`)).status).toBe(
        404,
      );
    }
    expect((await zhang.call(`/api/v1/hazards/${hazard.id}/photos/..%2F..%2Fusers`)).status).toBe(
      404,
    );
  });

  it('says why when the disk refuses a photo (500, counted), and references nothing', async () => {
    const tmp = join(work, 'data', 'hazards', 'photos', 'tmp');
    // The temp directory replaced by a file: the write fails as on a broken disk.
    rmSync(tmp, { recursive: true, force: true });
    writeFileSync(tmp, 'not a directory');
    const photo = hazardPng(5);
    const failed = await upload(chen, other.id, photo);
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as { message: string }).message).toMatch(/^photo not stored \(/);
    expect(await metric('write-error')).toBe(1);
    const current = await json<Hazard>(await chen.call(`/api/v1/hazards/${other.id}`));
    expect(current.photoFiles?.map(p => p.sha256)).toEqual([sha(hazardPng(3))]);
    expect(
      existsSync(join(work, 'data', 'hazards', 'photos', sha(photo).slice(0, 2), sha(photo))),
    ).toBe(false);
    // The disk back: the same upload goes through.
    rmSync(tmp, { force: true });
    mkdirSync(tmp);
    await json(await upload(chen, other.id, photo), 201);
  });

  it('keeps the photos and their steps across a restart on the same data directory', async () => {
    if (!vigil) throw new Error('not started');
    const before = await json<Hazard>(await zhang.call(`/api/v1/hazards/${hazard.id}`));
    await stop(vigil.process);
    vigil = await startBuiltVigil(env);
    await login();
    const after = await json<Hazard>(await zhang.call(`/api/v1/hazards/${hazard.id}`));
    expect(after.photoFiles).toEqual(before.photoFiles);
    expect(after.history).toEqual(before.history);
    const photo = hazardPng(0);
    const fetched = await zhang.call(`/api/v1/hazards/${hazard.id}/photos/${sha(photo)}`);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(photo)).toBe(true);
  });
});
