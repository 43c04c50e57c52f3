import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';

import { loginBody } from '../auth/auth.controller';
import { PUBLIC } from '../auth/auth.guard';
import { alarmHistoryQuery } from '../console-api/alarm-history.controller';
import { healthQuery } from '../console-api/device-health.controller';
import { positionsQuery } from '../console-api/positions.controller';
import { telemetryQuery } from '../console-api/telemetry.controller';
import { alertmanagerWebhookSchema } from '../notify/relay-messages';
import { ACTION_BODIES, alarmQuery, deviceQuery, maintenanceBody } from './api.controller';
import { reportQuery } from './reports.controller';
import {
  HAZARD_ACTION_BODIES,
  createHazardBody,
  hazardQuery,
  hazardStatsQuery,
} from '../hazards/hazards.controller';

export const BEARER = 'bearer';

type Schema = Record<string, unknown>;
interface OperationSchemas {
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
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
  'POST /api/v1/hazards': { body: createHazardBody },
  'POST /api/v1/hazards/{id}/{action}': { body: z.union(Object.values(HAZARD_ACTION_BODIES)) },
  'GET /api/v1/hazards': { query: hazardQuery },
  'GET /api/v1/hazards/stats': { query: hazardStatsQuery },
};

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
 * requirement on every non-public operation (`security: []` on public ones), request bodies and
 * query parameters from the zod schemas above, and a response schema on every operation (`{}`,
 * any JSON, where no schema is declared yet: docs/interfaces.md describes those responses).
 */
export function completeOpenApi(app: INestApplication, document: OpenAPIObject): OpenAPIObject {
  const open = publicOperations(app);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      operation.security = open.has(operation.operationId ?? '') ? [] : [{ [BEARER]: [] }];
      const schemas = REQUESTS[`${method.toUpperCase()} ${path}`];
      if (schemas?.body) {
        operation.requestBody = {
          required: true,
          content: { 'application/json': { schema: jsonSchema(schemas.body) } },
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
      const responses = (operation.responses ??= {});
      const success = Object.keys(responses).find(code => code.startsWith('2'));
      if (!success) {
        responses[method === 'post' ? '201' : '200'] = { description: 'OK' };
      }
      for (const [code, response] of Object.entries(responses)) {
        if (!code.startsWith('2') || !response || '$ref' in response) continue;
        response.content ??= { 'application/json': { schema: {} } };
      }
      if (operation.security.length > 0) {
        responses['401'] ??= { description: 'No valid bearer token' };
      }
    }
  }
  return document;
}
