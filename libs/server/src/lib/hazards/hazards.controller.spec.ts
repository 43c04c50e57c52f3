import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { HttpException } from '@nestjs/common';
import type { Response } from 'express';

import type { Alarm, Hazard } from '@vigil/contracts';

import { AlarmCommands } from '../alarms/alarm-commands';
import { AuthService, type AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { PipelineBus } from '../bus/pipeline-bus';
import { loadConfig } from '../config/vigil-config';
import { AlarmView } from '../alarms/alarm-view';
import { VigilMetrics } from '../metrics/metrics';
import { RegistryHolder } from '../registry/registry-holder';
import { HazardService } from './hazard.service';
import { HazardsController } from './hazards.controller';
import type { UploadBody } from './upload-body';
import { testUser, writeTwoEnterpriseRegistry } from '../common/two-enterprises.fixture';

/** Two enterprises under one city: each enterprise's users see only their own hazards. */
const zhang = testUser('zhang', 'operator', 'ent-huaxin');
const wang = testUser('wang', 'supervisor', 'park-chem');
const admin = testUser('admin', 'admin', 'city-demo');

function alarm(id: string, siteId: string, disposition?: Alarm['disposition']): Alarm {
  return {
    id,
    key: `${siteId}/gc-${siteId}/gas-l1`,
    ruleId: 'gas-l1',
    siteId,
    deviceId: `gc-${siteId}`,
    deviceClass: 'gas-combustible',
    areaId: 'unit-1',
    category: 'process',
    priority: 2,
    level: 'L1',
    state: 'active-acknowledged',
    conditionActive: true,
    latched: false,
    metric: 'lel',
    value: 30,
    threshold: 25,
    message: 'leak',
    raisedAt: 1,
    clearedAt: undefined,
    acknowledgedAt: 2,
    acknowledgedBy: 'zhang',
    updatedAt: 3,
    detectedAt: 1,
    history: [],
    ...(disposition ? { disposition } : {}),
  };
}

describe(HazardsController.name, () => {
  let dir: string;
  let service: HazardService;
  let controller: HazardsController;
  let metrics: VigilMetrics;

  const status = (run: () => unknown): number => {
    try {
      run();
    } catch (error) {
      if (error instanceof HttpException) return error.getStatus();
      throw error;
    }
    return 200;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-hazards-api-'));
    writeTwoEnterpriseRegistry(dir);
    const config = loadConfig({
      VIGIL_REGISTRY: dir,
      VIGIL_DATA_DIR: join(dir, 'data'),
      VIGIL_ALARM_TICK_MS: '0',
      // 1 KiB photos, 3 per hazard: the bounds are what is tested, not their defaults.
      VIGIL_HAZARD_PHOTO_MAX_MB: String(1 / 1024),
      VIGIL_HAZARD_PHOTOS_MAX: '3',
      VIGIL_HAZARD_PHOTO_RESERVE_MB: '0',
    });
    const registry = new RegistryHolder(config);
    const bus = new PipelineBus();
    const commands = { execute: async () => ({ ok: false }) } as unknown as AlarmCommands;
    const view = new AlarmView(bus, commands);
    bus.publishAlarms([
      {
        alarm: alarm('disposed-a', 'plant-a', {
          kind: 'real-event',
          note: 'n',
          by: 'zhang',
          at: 3,
        }),
        action: { action: 'dispose', at: 3, by: 'zhang', note: undefined },
      },
      {
        alarm: alarm('false-a', 'plant-a', { kind: 'false-alarm', note: 'n', by: 'zhang', at: 3 }),
        action: { action: 'dispose', at: 3, by: 'zhang', note: undefined },
      },
      {
        alarm: alarm('disposed-b', 'plant-b', { kind: 'device-fault', note: 'n', by: 'x', at: 3 }),
        action: { action: 'dispose', at: 3, by: 'x', note: undefined },
      },
    ]);
    metrics = new VigilMetrics();
    service = new HazardService(config, registry, () => 1_000, undefined, metrics);
    service.onModuleInit();
    const authorization = new AuthorizationService(
      registry,
      metrics,
      new AuthService(config, registry, metrics),
    );
    controller = new HazardsController(
      service,
      view,
      authorization,
      registry,
      () => 1_000,
      config,
      metrics,
    );
  });

  afterEach(() => {
    service.onModuleDestroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('links a hazard to an alarm disposed as a real event, with its site, area and device', () => {
    const hazard = controller.create(
      { alarmId: 'disposed-a', title: 'leak', level: 'general' },
      zhang,
    );
    expect(hazard).toMatchObject({
      source: 'alarm',
      alarmId: 'disposed-a',
      siteId: 'plant-a',
      enterprise: 'ent-huaxin',
      areaId: 'unit-1',
      deviceIds: ['gc-plant-a'],
    });
    expect(
      status(() =>
        controller.create({ alarmId: 'disposed-a', title: 'x', level: 'general' }, zhang),
      ),
    ).toBe(409);
  });

  it('refuses an alarm not disposed as a real event or device fault (422), a bad body (400), an unknown area (422)', () => {
    expect(
      status(() => controller.create({ alarmId: 'false-a', title: 'x', level: 'general' }, zhang)),
    ).toBe(422);
    expect(status(() => controller.create({ title: 'x', level: 'general' }, zhang))).toBe(400);
    expect(
      status(() => controller.create({ title: 'x', level: 'huge', siteId: 'plant-a' }, zhang)),
    ).toBe(400);
    expect(
      status(() =>
        controller.create({ title: 'x', level: 'general', siteId: 'plant-a', extra: 1 }, zhang),
      ),
    ).toBe(400);
    expect(
      status(() =>
        controller.create(
          { title: 'x', level: 'general', siteId: 'plant-a', areaId: 'nowhere' },
          zhang,
        ),
      ),
    ).toBe(422);
    expect(
      status(() =>
        controller.create(
          { title: 'x', level: 'general', siteId: 'plant-a', deviceIds: ['gc-9'] },
          zhang,
        ),
      ),
    ).toBe(422);
  });

  it('is fail-closed: another enterprise’s site, alarm and hazards are answered 404, never 403', () => {
    expect(
      status(() => controller.create({ title: 'x', level: 'general', siteId: 'plant-b' }, zhang)),
    ).toBe(404);
    expect(
      status(() =>
        controller.create({ alarmId: 'disposed-b', title: 'x', level: 'general' }, zhang),
      ),
    ).toBe(404);
    const theirs: Hazard = controller.create(
      { title: 'theirs', level: 'major', siteId: 'plant-b' },
      admin,
    );
    const ours: Hazard = controller.create(
      { title: 'ours', level: 'general', siteId: 'plant-a' },
      zhang,
    );
    expect(controller.list({}, zhang).map(h => h.id)).toEqual([ours.id]);
    expect(controller.list({}, wang).map(h => h.id)).toEqual([ours.id]);
    expect(controller.list({}, admin).map(h => h.id)).toEqual([ours.id, theirs.id]); // newest first;
    expect(status(() => controller.one(theirs.id, zhang))).toBe(404);
    expect(status(() => controller.action(theirs.id, 'assign', { assignee: 'x' }, zhang))).toBe(
      404,
    );
    expect(controller.stats({}, wang).rows.map(row => row.enterprise)).toEqual(['ent-huaxin']);
    // By region: the park counts what is beneath it, the city everything; never a sibling region.
    const regions = (who: AuthenticatedUser) =>
      controller.stats({ by: 'region' }, who).rows.map(row => [row.nodeId, row.total.open]);
    expect(regions(admin)).toEqual([
      ['city-demo', 2],
      ['park-chem', 1],
    ]);
    expect(regions(wang)).toEqual([['park-chem', 1]]);
    expect(regions(zhang)).toEqual([]);
    expect(controller.stats({ by: 'site' }, admin).rows.map(row => row.siteId)).toEqual([
      'plant-a',
      'plant-b',
    ]);
  });

  it('shows a user whose scope is not in the organisation tree nothing, and refuses their steps (403)', () => {
    const ours = controller.create({ title: 'ours', level: 'general', siteId: 'plant-a' }, zhang);
    const lost = testUser('lost', 'admin', 'nowhere');
    expect(controller.list({}, lost)).toEqual([]);
    expect(controller.stats({ by: 'region' }, lost).rows).toEqual([]);
    expect(controller.stats({ by: 'site' }, lost).rows).toEqual([]);
    expect(status(() => controller.one(ours.id, lost))).toBe(404);
    expect(
      status(() => controller.create({ title: 'x', level: 'general', siteId: 'plant-a' }, lost)),
    ).toBe(403);
    expect(status(() => controller.action(ours.id, 'assign', { assignee: 'zhang' }, lost))).toBe(
      403,
    );
  });

  it('answers the lifecycle’s refusals with their status, and filters the list', () => {
    const hazard = controller.create({ title: 'x', level: 'general', siteId: 'plant-a' }, zhang);
    expect(status(() => controller.action(hazard.id, 'fly', {}, wang))).toBe(404);
    expect(status(() => controller.action(hazard.id, 'assign', { assignee: 'zhang' }, zhang))).toBe(
      403,
    );
    expect(status(() => controller.action(hazard.id, 'assign', { assignee: 'zhang' }, wang))).toBe(
      422,
    );
    const plan = {
      responsible: 'r',
      measures: 'm',
      funds: 1,
      deadline: 5_000,
      contingencyPlan: 'p',
    };
    // The rectifier must be someone who logs in and sees the site.
    expect(
      status(() => controller.action(hazard.id, 'assign', { assignee: 'nobody', plan }, wang)),
    ).toBe(422);
    expect(status(() => controller.action(hazard.id, 'rectify', {}, wang))).toBe(400);
    expect(status(() => controller.action(hazard.id, 'accept', {}, wang))).toBe(409);
    controller.action(
      hazard.id,
      'assign',
      {
        assignee: 'zhang',
        plan: { responsible: 'r', measures: 'm', funds: 1, deadline: 5_000, contingencyPlan: 'p' },
      },
      wang,
    );
    expect(controller.list({ state: 'assigned' }, zhang)).toHaveLength(1);
    expect(controller.list({ state: 'closed' }, zhang)).toHaveLength(0);
    expect(controller.list({ overdue: 'false' }, zhang)).toHaveLength(1);
    expect(controller.list({ level: 'major' }, zhang)).toHaveLength(0);
    expect(status(() => controller.list({ overdue: 'yes' }, zhang))).toBe(400);
  });

  describe('photos', () => {
    const other = testUser('liu', 'operator', 'ent-other');
    const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]);
    const PNG = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(100, 1),
    ]);

    /** A request whose body arrives in two chunks, as over a socket. */
    function request(body: Buffer, contentType = 'image/jpeg') {
      const half = Math.floor(body.length / 2);
      return Object.assign(Readable.from([body.subarray(0, half), body.subarray(half)]), {
        headers: { 'content-type': contentType },
      }) as unknown as UploadBody;
    }
    function response() {
      const sent = { status: 0, headers: {} as Record<string, string>, body: undefined as unknown };
      const res = {
        status: (code: number) => ((sent.status = code), res),
        setHeader: (name: string, value: string) => {
          sent.headers[name] = value;
        },
        set: (headers: Record<string, string>) => (Object.assign(sent.headers, headers), res),
        end: (body: unknown) => {
          sent.body = body;
        },
      };
      return { res: res as unknown as Response, sent };
    }
    const upload = async (
      id: string,
      body: Buffer,
      user: AuthenticatedUser = zhang,
      query: Record<string, string> = {},
    ) => {
      const { res, sent } = response();
      try {
        const answer = await controller.uploadPhoto(id, query, request(body), res, user);
        return { status: sent.status, answer };
      } catch (error) {
        if (error instanceof HttpException)
          return { status: error.getStatus(), message: String(error.message) };
        throw error;
      }
    };
    const outcome = async (name: string) =>
      (await metrics.hazardPhotos.get()).values.find(value => value.labels.outcome === name)
        ?.value ?? 0;

    it('stores a JPEG as a signed step, serves it with its type, privately, nosniff', async () => {
      const hazard = controller.create({ title: 'x', level: 'general', siteId: 'plant-a' }, zhang);
      const first = await upload(hazard.id, JPEG, zhang, { step: 'report' });
      expect(first.status).toBe(201);
      const sha = createHash('sha256').update(JPEG).digest('hex');
      expect(first.answer).toMatchObject({
        duplicate: false,
        photo: { sha256: sha, type: 'image/jpeg', bytes: JPEG.length, step: 'report', by: 'zhang' },
      });
      expect(first.answer?.hazard.history.at(-1)).toMatchObject({
        action: 'photo',
        by: 'zhang',
        photo: { sha256: sha, step: 'report' },
      });
      const { res, sent } = response();
      await controller.photo(hazard.id, sha, res, wang);
      expect(sent.status).toBe(200);
      expect(Buffer.compare(sent.body as Buffer, JPEG)).toBe(0);
      expect(sent.headers).toMatchObject({
        'Content-Type': 'image/jpeg',
        'Cache-Control': expect.stringMatching(/^private\b/),
        'X-Content-Type-Options': 'nosniff',
      });
      expect(await outcome('stored')).toBe(1);
    });

    it('answers the same bytes again with the photo already there, no second step', async () => {
      const hazard = controller.create({ title: 'x', level: 'general', siteId: 'plant-a' }, zhang);
      await upload(hazard.id, PNG);
      const again = await upload(hazard.id, PNG, wang);
      expect(again).toMatchObject({
        status: 200,
        answer: { duplicate: true, photo: { by: 'zhang' } },
      });
      expect(again.answer?.hazard.photoFiles).toHaveLength(1);
      expect(again.answer?.hazard.history.filter(step => step.action === 'photo')).toHaveLength(1);
    });

    it('refuses what is not JPEG, PNG or WebP whatever its Content-Type (415), and an empty body', async () => {
      const hazard = controller.create({ title: 'x', level: 'general', siteId: 'plant-a' }, zhang);
      const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(50)]);
      expect(await upload(hazard.id, gif)).toMatchObject({ status: 415 });
      const html = Buffer.from('<html><script>alert(1)</script></html>');
      expect(await upload(hazard.id, html)).toMatchObject({
        status: 415,
        message: expect.stringContaining('image/jpeg'),
      });
      expect(await upload(hazard.id, Buffer.alloc(0))).toMatchObject({ status: 400 });
      expect(await outcome('refused-type')).toBe(3);
      expect(controller.one(hazard.id, zhang).photoFiles).toBeUndefined();
    });

    it('refuses a photo over the size bound (413) and one over the count bound (409)', async () => {
      const hazard = controller.create({ title: 'x', level: 'general', siteId: 'plant-a' }, zhang);
      const exactly = Buffer.concat([JPEG.subarray(0, 4), Buffer.alloc(1024 - 4, 9)]);
      expect(await upload(hazard.id, exactly)).toMatchObject({ status: 201 });
      const big = Buffer.concat([exactly, Buffer.from([1])]);
      expect(await upload(hazard.id, big)).toMatchObject({
        status: 413,
        message: expect.stringContaining('at most 1024 bytes'),
      });
      expect(await outcome('refused-size')).toBe(1);
      for (const fill of [2, 3])
        expect(
          await upload(hazard.id, Buffer.concat([JPEG.subarray(0, 4), Buffer.alloc(10, fill)])),
        ).toMatchObject({ status: 201 });
      expect(
        await upload(hazard.id, Buffer.concat([JPEG.subarray(0, 4), Buffer.alloc(10, 4)])),
      ).toMatchObject({ status: 409, message: expect.stringContaining('at most 3') });
    });

    it('answers 404 to a user outside the hazard’s site, for upload and download alike', async () => {
      const hazard = controller.create({ title: 'x', level: 'general', siteId: 'plant-a' }, zhang);
      const stored = await upload(hazard.id, JPEG);
      expect(await upload(hazard.id, PNG, other)).toMatchObject({ status: 404 });
      const { res } = response();
      await expect(
        controller.photo(hazard.id, stored.answer?.photo.sha256 ?? '', res, other),
      ).rejects.toMatchObject({ status: 404 });
      // A photo of another hazard is not reachable through this one.
      const second = controller.create({ title: 'y', level: 'general', siteId: 'plant-a' }, zhang);
      await expect(
        controller.photo(second.id, stored.answer?.photo.sha256 ?? '', res, zhang),
      ).rejects.toMatchObject({ status: 404 });
      await expect(
        controller.photo(hazard.id, '../../etc/passwd', res, zhang),
      ).rejects.toMatchObject({ status: 404 });
    });

    it('takes rectification evidence only from the assignee or a supervisor (403)', async () => {
      const hazard = controller.create({ title: 'x', level: 'general', siteId: 'plant-a' }, zhang);
      expect(await upload(hazard.id, JPEG, zhang, { step: 'rectify' })).toMatchObject({
        status: 409,
      });
      expect(await upload(hazard.id, JPEG, zhang, { step: 'later' })).toMatchObject({
        status: 400,
      });
      // Nothing stored for a refused step: no file waits unreferenced.
      expect(await service.photos.has(createHash('sha256').update(JPEG).digest('hex'))).toBe(false);
    });

    it('says why when the disk refuses the photo (500 with the reason), and references nothing', async () => {
      const hazard = controller.create({ title: 'x', level: 'general', siteId: 'plant-a' }, zhang);
      // The photos' temp directory replaced by a file: every write fails (ENOTDIR / EEXIST).
      rmSync(join(service.photos.directory, 'tmp'), { recursive: true, force: true });
      writeFileSync(join(service.photos.directory, 'tmp'), 'not a directory');
      const failed = await upload(hazard.id, JPEG);
      expect(failed).toMatchObject({
        status: 500,
        message: expect.stringContaining('photo not stored'),
      });
      expect(await outcome('write-error')).toBe(1);
      expect(controller.one(hazard.id, zhang).photoFiles).toBeUndefined();
    });
  });
});
