import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';

import { HAZARD_PHOTO_TYPES } from '@vigil/contracts';

import { loginBody } from '../auth/auth.controller';
import { PUBLIC } from '../auth/auth.guard';
import { alarmHistoryQuery } from '../console-api/alarm-history.controller';
import { healthQuery } from '../console-api/device-health.controller';
import { positionsQuery } from '../console-api/positions.controller';
import { telemetryQuery } from '../console-api/telemetry.controller';
import { alertmanagerWebhookSchema } from '../notify/relay-messages';
import { ACTION_BODIES } from '../alarms/alarm-actions';
import { alarmQuery, deviceQuery, maintenanceBody } from './api.controller';
import * as api from './api-responses';
import { reportQuery } from './reports.controller';
import {
  HAZARD_ACTION_BODIES,
  createHazardBody,
  hazardPhotoQuery,
  hazardQuery,
  hazardStatsQuery,
} from '../hazards/hazards.controller';
import * as hazardApi from '../hazards/hazard-responses';
import {
  createInspectionBody,
  missedQuery,
  recordQuery,
  scheduleQuery,
} from '../inspections/inspections.controller';
import * as inspectionApi from '../inspections/inspection-responses';
import { guarantorsQuery } from '../guarantors/guarantors.controller';
import * as guarantorApi from '../guarantors/guarantor-responses';
import { PERMIT_ACTION_BODIES, createPermitBody, permitQuery } from '../permits/permits.controller';
import * as permitApi from '../permits/permit-responses';
import { SHIFT_ACTION_BODIES, shiftQuery, startShiftBody } from '../duty/duty.controller';
import * as dutyApi from '../duty/duty-responses';
import { monthlyReportQuery } from '../reports/monthly-report.controller';
import * as reportApi from '../reports/monthly-report-responses';
import { supervisionApprovalBody, supervisionOrderBody, uplinkBatchSchema } from '@vigil/contracts';
import { linkOrdersQuery } from '../uplink/uplink.controller';
import * as uplinkApi from '../uplink/uplink-responses';

export const BEARER = 'bearer';
/** The notification relay's own scheme: Alertmanager sends the relay secret, not a user token. */
export const RELAY_SECRET = 'relaySecret';
/** The uplink's own scheme: a lower Vigil sends its link token, not a user token. */
export const UPLINK_TOKEN = 'uplinkToken';

type Schema = Record<string, unknown>;
interface ResponseObject {
  description: string;
  content?: Record<string, { schema: Schema }>;
}
interface OperationSchemas {
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  /** A body that is a file (its media types), not JSON. */
  readonly file?: readonly string[];
}

/**
 * Request schemas by `METHOD path`, from the very zod schemas the controllers validate with
 * (one source of truth: what the document says is what `parseOr400` enforces).
 */
const REQUESTS: Readonly<Record<string, OperationSchemas>> = {
  'POST /api/v1/auth/login': { body: loginBody },
  'POST /api/v1/devices/{siteId}/{deviceId}/maintenance': { body: maintenanceBody },
  'POST /api/v1/alarms/{id}/{action}': { body: z.union(Object.values(ACTION_BODIES)) },
  'POST /api/v1/notify/relay/{node}/{channel}': { body: alertmanagerWebhookSchema },
  'GET /api/v1/devices': { query: deviceQuery },
  'GET /api/v1/alarms': { query: alarmQuery },
  'GET /api/v1/history/alarms': { query: alarmHistoryQuery },
  'GET /api/v1/devices/health': { query: healthQuery },
  'GET /api/v1/positions': { query: positionsQuery },
  'GET /api/v1/telemetry/{siteId}/{deviceId}': { query: telemetryQuery },
  'GET /api/v1/reports/alarm-performance': { query: reportQuery },
  'GET /api/v1/reports/monthly': { query: monthlyReportQuery },
  'POST /api/v1/hazards': { body: createHazardBody },
  'POST /api/v1/uplink/batches': { body: uplinkBatchSchema },
  'GET /api/v1/uplink/links/orders': { query: linkOrdersQuery },
  'POST /api/v1/uplink/enterprises/{code}/orders': { body: supervisionOrderBody },
  'POST /api/v1/uplink/enterprises/{code}/hazards/{id}/approve': { body: supervisionApprovalBody },
  'POST /api/v1/hazards/{id}/{action}': { body: z.union(Object.values(HAZARD_ACTION_BODIES)) },
  'GET /api/v1/hazards': { query: hazardQuery },
  'GET /api/v1/hazards/stats': { query: hazardStatsQuery },
  'POST /api/v1/hazards/{id}/photos': { query: hazardPhotoQuery, file: HAZARD_PHOTO_TYPES },
  'POST /api/v1/inspections/records': { body: createInspectionBody },
  'GET /api/v1/inspections/schedules': { query: scheduleQuery },
  'GET /api/v1/inspections/records': { query: recordQuery },
  'GET /api/v1/inspections/missed': { query: missedQuery },
  'GET /api/v1/guarantors': { query: guarantorsQuery },
  'POST /api/v1/permits': { body: createPermitBody },
  'POST /api/v1/permits/{id}/{action}': { body: z.union(Object.values(PERMIT_ACTION_BODIES)) },
  'GET /api/v1/permits': { query: permitQuery },
  'POST /api/v1/duty/shifts': { body: startShiftBody },
  'POST /api/v1/duty/shifts/{id}/{action}': { body: z.union(Object.values(SHIFT_ACTION_BODIES)) },
  'GET /api/v1/duty/shifts': { query: shiftQuery },
};

/**
 * The answer of every operation on success, by `METHOD path` (schemas in api-responses.ts, named in
 * `components.schemas`). `null`: no body (204). The relay is listed although it runs only where
 * VIGIL_NOTIFY_CONFIG is set. An operation missing here fails `completeOpenApi`, so a new route
 * cannot ship with an undocumented answer.
 */
const RESPONSES: Readonly<
  Record<string, Readonly<Record<string, z.ZodType | null | 'text' | 'photo'>>>
> = {
  'GET /healthz': { '200': api.healthz },
  'GET /readyz': { '200': api.readiness, '503': api.readiness },
  'GET /metrics': { '200': 'text' },
  'POST /api/v1/auth/login': { '200': api.session },
  'POST /api/v1/auth/logout': { '204': null },
  'GET /api/v1/auth/mode': { '200': api.authMode },
  'GET /api/v1/auth/me': { '200': api.user },
  'GET /api/v1/devices': { '200': api.deviceList },
  'GET /api/v1/devices/{siteId}/{deviceId}': { '200': api.device },
  'POST /api/v1/devices/{siteId}/{deviceId}/maintenance': { '200': api.deviceMode },
  'GET /api/v1/sites': { '200': api.sites },
  'GET /api/v1/alarms': { '200': api.alarmList },
  'GET /api/v1/alarms/hidden': { '200': api.hiddenCounts },
  'GET /api/v1/alarms/{id}': { '200': api.alarm },
  'POST /api/v1/alarms/{id}/{action}': { '200': api.alarm },
  'GET /api/v1/reports/alarm-performance': { '200': api.alarmPerformanceReport },
  // format=json; html and pdf answer text/html and application/pdf (docs/interfaces.md §Reports).
  'GET /api/v1/reports/monthly': { '200': reportApi.monthlyReport },
  'POST /api/v1/registry/reload': { '200': api.registryReload },
  'GET /api/v1/history/alarms': { '200': api.alarmHistory },
  'GET /api/v1/telemetry/{siteId}/{deviceId}': { '200': api.telemetry },
  'GET /api/v1/devices/health': { '200': api.deviceHealth },
  'GET /api/v1/devices/{siteId}/{deviceId}/live': { '200': api.deviceLive },
  'GET /api/v1/risk': { '200': api.risk },
  'GET /api/v1/positions': { '200': api.positions },
  'GET /api/v1/areas/{siteId}/{areaId}/muster': { '200': api.muster },
  'POST /api/v1/notify/relay/{node}/{channel}': { '200': api.relayAccepted },
  'GET /api/v1/hazards': { '200': hazardApi.hazardList },
  'POST /api/v1/uplink/batches': { '200': uplinkApi.uplinkAck },
  'GET /api/v1/uplink/enterprises': { '200': uplinkApi.uplinkEnterpriseList },
  'GET /api/v1/uplink/links/orders': { '200': uplinkApi.linkOrders },
  'POST /api/v1/uplink/enterprises/{code}/orders': { '201': uplinkApi.supervisionOrder },
  'POST /api/v1/uplink/enterprises/{code}/hazards/{id}/approve': {
    '201': uplinkApi.supervisionOrder,
  },
  'GET /api/v1/uplink/orders': { '200': uplinkApi.supervisionOrderList },
  'GET /api/v1/hazards/stats': { '200': hazardApi.hazardStats },
  'GET /api/v1/hazards/{id}': { '200': hazardApi.hazard },
  'POST /api/v1/hazards': { '201': hazardApi.hazard },
  'POST /api/v1/hazards/{id}/{action}': { '200': hazardApi.hazard },
  'POST /api/v1/hazards/{id}/photos': {
    '201': hazardApi.hazardPhotoUpload,
    '200': hazardApi.hazardPhotoUpload,
  },
  'GET /api/v1/hazards/{id}/photos/{sha256}': { '200': 'photo' },
  'GET /api/v1/inspections/schedules': { '200': inspectionApi.inspectionScheduleList },
  'GET /api/v1/inspections/records': { '200': inspectionApi.inspectionRecordList },
  'GET /api/v1/inspections/records/{id}': { '200': inspectionApi.inspectionRecord },
  'POST /api/v1/inspections/records': { '201': inspectionApi.inspectionRecord },
  'GET /api/v1/inspections/missed': { '200': inspectionApi.inspectionMissList },
  'GET /api/v1/guarantors': { '200': guarantorApi.mhsGuarantorsList },
  'GET /api/v1/guarantors/alarm/{id}': { '200': guarantorApi.mhsGuarantorsList },
  'GET /api/v1/guarantors/hazard/{id}': { '200': guarantorApi.mhsGuarantorsList },
  'GET /api/v1/permits': { '200': permitApi.permitList },
  'GET /api/v1/permits/{id}': { '200': permitApi.permit },
  'POST /api/v1/permits': { '201': permitApi.permit },
  'POST /api/v1/permits/{id}/{action}': { '200': permitApi.permit },
  'GET /api/v1/duty/rooms': { '200': dutyApi.dutyRooms },
  'GET /api/v1/duty/shifts': { '200': dutyApi.shiftList },
  'GET /api/v1/duty/shifts/{id}': { '200': dutyApi.shift },
  'POST /api/v1/duty/shifts': { '201': dutyApi.shift },
  'POST /api/v1/duty/shifts/{id}/{action}': { '200': dutyApi.shift },
};

/** Error answers every operation may give, besides 401 on protected ones. */
const ERRORS: Readonly<Record<string, string>> = {
  '400': 'Invalid request: `issues` lists every problem',
  '403': 'Outside the user’s role',
  '404': 'Not found, or outside the user’s scope',
  '422': 'Refused: `problems` lists every one',
  '413': 'The body is larger than allowed',
  '415': 'Not a type accepted here (told by the content, not by Content-Type)',
  '429': 'Too many attempts (`retryAfter` seconds, and the Retry-After header)',
  '500': 'Not done: the reason is in `message` (a disk write failed, a stored file damaged)',
  '507': 'Not stored: no space (the disk is full, or the space kept for the journals is reached)',
  '502': 'The relay target failed (Alertmanager retries)',
  '503': 'Too busy or not ready',
  '504': 'The rules process did not answer in time',
};
/** Which error answers each operation gives (by `METHOD path`; every protected one also 401). */
const ERRORS_OF: Readonly<Record<string, readonly string[]>> = {
  'POST /api/v1/auth/login': ['400', '401', '429', '503'],
  'GET /api/v1/devices': ['400'],
  'GET /api/v1/devices/{siteId}/{deviceId}': ['404'],
  'POST /api/v1/devices/{siteId}/{deviceId}/maintenance': [
    '400',
    '403',
    '404',
    '422',
    '503',
    '504',
  ],
  'GET /api/v1/alarms': ['400'],
  'GET /api/v1/alarms/{id}': ['404'],
  'POST /api/v1/alarms/{id}/{action}': ['400', '403', '404', '409', '503', '504'],
  'GET /api/v1/reports/alarm-performance': ['400'],
  'GET /api/v1/reports/monthly': ['400', '404', '422', '503'],
  'POST /api/v1/registry/reload': ['403', '422'],
  'GET /api/v1/history/alarms': ['400', '503'],
  'GET /api/v1/telemetry/{siteId}/{deviceId}': ['400', '404', '503'],
  'GET /api/v1/devices/health': ['400'],
  'GET /api/v1/devices/{siteId}/{deviceId}/live': ['404'],
  'GET /api/v1/positions': ['400'],
  'GET /api/v1/areas/{siteId}/{areaId}/muster': ['404'],
  'POST /api/v1/notify/relay/{node}/{channel}': ['400', '401', '404', '502'],
  'GET /api/v1/hazards': ['400'],
  'POST /api/v1/uplink/batches': ['400', '401', '403', '503'],
  'GET /api/v1/uplink/enterprises': ['403'],
  'GET /api/v1/uplink/links/orders': ['400', '401', '403'],
  'POST /api/v1/uplink/enterprises/{code}/orders': ['400', '403', '404', '503'],
  'POST /api/v1/uplink/enterprises/{code}/hazards/{id}/approve': [
    '400',
    '403',
    '404',
    '409',
    '503',
  ],
  'GET /api/v1/uplink/orders': ['403'],
  'GET /api/v1/hazards/stats': ['400'],
  'GET /api/v1/hazards/{id}': ['404'],
  'POST /api/v1/hazards': ['400', '404', '409', '422'],
  'POST /api/v1/hazards/{id}/{action}': ['400', '403', '404', '409', '422'],
  'POST /api/v1/hazards/{id}/photos': ['400', '403', '404', '409', '413', '415', '500', '507'],
  'GET /api/v1/hazards/{id}/photos/{sha256}': ['404', '500'],
  'GET /api/v1/inspections/schedules': ['400', '503'],
  'GET /api/v1/inspections/records': ['400', '503'],
  'GET /api/v1/inspections/records/{id}': ['404', '503'],
  'POST /api/v1/inspections/records': ['400', '403', '404', '422', '503'],
  'GET /api/v1/inspections/missed': ['400', '503'],
  'GET /api/v1/guarantors': ['400'],
  'GET /api/v1/guarantors/alarm/{id}': ['404'],
  'GET /api/v1/guarantors/hazard/{id}': ['404'],
  'GET /api/v1/permits': ['400'],
  'GET /api/v1/permits/{id}': ['404'],
  'POST /api/v1/permits': ['400', '404', '422'],
  'POST /api/v1/permits/{id}/{action}': ['400', '403', '404', '409', '503'],
  'GET /api/v1/duty/shifts': ['400'],
  'GET /api/v1/duty/shifts/{id}': ['404'],
  'POST /api/v1/duty/shifts': ['400', '403', '404', '409', '422'],
  'POST /api/v1/duty/shifts/{id}/{action}': ['400', '403', '404', '409', '422'],
};

const REF = (id: string) => `#/components/schemas/${id}`;

/** The named response schemas as OpenAPI 3.0 `components.schemas`. */
export function responseComponents(): Record<string, Schema> {
  const { schemas } = z.toJSONSchema(api.API_SCHEMAS, {
    target: 'openapi-3.0',
    io: 'output',
    unrepresentable: 'any',
    uri: REF,
  }) as { schemas: Record<string, Schema> };
  for (const schema of Object.values(schemas)) {
    // `$id` and `$schema` are not OpenAPI 3.0 schema keywords; the components' keys name them.
    delete schema['$schema'];
    delete schema['$id'];
  }
  return schemas;
}

function ref(schema: z.ZodType): Schema {
  const id = api.API_SCHEMAS.get(schema)?.id;
  if (id === undefined) throw new Error('a response schema must be named in API_SCHEMAS');
  return { $ref: REF(id) };
}

/** zod → JSON Schema as OpenAPI 3.0 reads it; what cannot be expressed becomes `{}` (any). */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Schema {
  const result = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' });
  const { $schema: _ignored, ...rest } = result as Schema;
  return rest;
}

/** The class-level or handler-level `@Public()` of every operation, by Nest's operationId. */
function publicOperations(app: INestApplication): Set<string> {
  const found = new Set<string>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!type) continue;
      const classPublic = Reflect.getMetadata(PUBLIC, type) === true;
      for (const name of Object.getOwnPropertyNames(type.prototype)) {
        const handler = (type.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function' || name === 'constructor') continue;
        if (classPublic || Reflect.getMetadata(PUBLIC, handler) === true) {
          found.add(`${type.name}_${name}`);
        }
      }
    }
  }
  return found;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

/**
 * Completes Nest's generated document so that clients can be generated from it: the bearer
 * requirement on every non-public operation (`security: []` on public ones, the relay secret on
 * the notification relay), request bodies and query parameters from the zod schemas above, and
 * the schema of every success and error answer (`RESPONSES`, `ERRORS_OF`).
 */
export function completeOpenApi(app: INestApplication, document: OpenAPIObject): OpenAPIObject {
  const open = publicOperations(app);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      // The relay is public to the user guard and checks its own shared secret instead.
      const relay = path.startsWith('/api/v1/notify/relay/');
      const uplink = path === '/api/v1/uplink/batches' || path === '/api/v1/uplink/links/orders';
      operation.security = relay
        ? [{ [RELAY_SECRET]: [] }]
        : uplink
          ? [{ [UPLINK_TOKEN]: [] }]
          : open.has(operation.operationId ?? '')
            ? []
            : [{ [BEARER]: [] }];
      const schemas = REQUESTS[`${method.toUpperCase()} ${path}`];
      if (schemas?.body) {
        operation.requestBody = {
          required: true,
          content: { 'application/json': { schema: jsonSchema(schemas.body) } },
        };
      }
      if (schemas?.file) {
        operation.requestBody = {
          required: true,
          content: Object.fromEntries(
            schemas.file.map(type => [type, { schema: { type: 'string', format: 'binary' } }]),
          ),
        };
      }
      if (schemas?.query) {
        const query = jsonSchema(schemas.query) as {
          properties?: Record<string, Schema>;
          required?: string[];
        };
        const others = (operation.parameters ?? []).filter(
          parameter => !('in' in parameter && parameter.in === 'query'),
        );
        operation.parameters = [
          ...others,
          ...Object.entries(query.properties ?? {}).map(([name, schema]) => ({
            name,
            in: 'query' as const,
            required: (query.required ?? []).includes(name),
            schema,
          })),
        ];
      }
      const key = `${method.toUpperCase()} ${path}`;
      const answers = RESPONSES[key];
      if (!answers) throw new Error(`openapi.ts: no response schema for ${key}`);
      const responses: Record<string, ResponseObject> = {};
      for (const [code, schema] of Object.entries(answers)) {
        const description =
          (operation.responses?.[code] as ResponseObject | undefined)?.description ||
          (code === '204' ? 'No content' : code === '503' ? (ERRORS['503'] ?? '') : 'OK');
        responses[code] =
          schema === null
            ? { description }
            : schema === 'text'
              ? { description, content: { 'text/plain': { schema: { type: 'string' } } } }
              : schema === 'photo'
                ? {
                    description,
                    content: Object.fromEntries(
                      HAZARD_PHOTO_TYPES.map(type => [
                        type,
                        { schema: { type: 'string', format: 'binary' } },
                      ]),
                    ),
                  }
                : { description, content: { 'application/json': { schema: ref(schema) } } };
      }
      const errors = [...(ERRORS_OF[key] ?? [])];
      if (operation.security.length > 0 && !errors.includes('401')) errors.push('401');
      for (const code of errors) {
        responses[code] ??= {
          description:
            code === '401'
              ? relay
                ? 'No valid relay secret'
                : 'No valid bearer token'
              : code === '409'
                ? 'Not allowed in the alarm’s state'
                : (ERRORS[code] ?? 'Error'),
          content: { 'application/json': { schema: ref(api.apiError) } },
        };
      }
      operation.responses = responses as typeof operation.responses;
    }
  }
  // Nest's scan leaves schemas nothing refers to (`Buffer`, from the MQTT handlers' payloads):
  // clients would generate empty types from them.
  const schemas: Record<string, unknown> = {
    ...document.components?.schemas,
    ...responseComponents(),
  };
  const text = JSON.stringify({ paths: document.paths, schemas });
  for (const id of Object.keys(schemas)) if (!text.includes(`"${REF(id)}"`)) delete schemas[id];
  document.components = {
    ...document.components,
    schemas: schemas as NonNullable<OpenAPIObject['components']>['schemas'],
    securitySchemes: {
      ...document.components?.securitySchemes,
      [RELAY_SECRET]: {
        type: 'http',
        scheme: 'bearer',
        description:
          'The notification relay’s shared secret (notify.yaml `relay.secretFile`, docs/notifications.md): Alertmanager sends it as `Authorization: Bearer <secret>` (`credentials_file`); user tokens are not accepted',
      },
      [UPLINK_TOKEN]: {
        type: 'http',
        scheme: 'bearer',
        description:
          'A lower Vigil’s link token (its VIGIL_UPLINK_TOKEN; this Vigil’s VIGIL_UPLINK_LINKS holds its sha256, docs/interfaces.md §Uplink); user tokens are not accepted',
      },
    },
  };
  return document;
}
