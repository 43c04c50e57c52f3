import { BadRequestException, NotFoundException } from '@nestjs/common';
import type { z } from 'zod';

/** Validates a request part; a 400 lists every problem (the `Error` shape of the OpenAPI document). */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    throw new BadRequestException({
      statusCode: 400,
      message: 'invalid request',
      issues: parsed.error.issues.map(
        issue => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
      ),
    });
  }
  return parsed.data;
}

/**
 * The body of a `POST …/:id/:action` step as the command it names (hazards, permits, duty
 * shifts): a name not in `names` is a 404, a body that does not fit that command's schema in
 * `bodies` a 400 listing every problem (`parseOr400`).
 */
export function parseCommandOr404<N extends string>(
  names: readonly N[],
  bodies: Readonly<Record<N, z.ZodType>>,
  action: string,
  body: unknown,
): { readonly name: N; readonly fields: object } {
  if (!(names as readonly string[]).includes(action))
    throw new NotFoundException(`unknown action "${action}"`);
  const name = action as N;
  return { name, fields: parseOr400(bodies[name] as z.ZodType<object>, body) };
}
