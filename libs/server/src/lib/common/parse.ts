import { BadRequestException } from '@nestjs/common';
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
