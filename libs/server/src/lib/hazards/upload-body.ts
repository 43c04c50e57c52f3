import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** A request body that is a file: the stream to read it from, and the headers that came with it. */
export type UploadBody = Readable & {
  readonly headers: IncomingHttpHeaders;
  readonly readableEnded: boolean;
};

/**
 * The request as a stream of bytes, for an endpoint whose body is a file (hazard photos). Only
 * the body and its headers: who the user is and what they may see come from `@CurrentUser()` and
 * `AuthorizationService`, never from the request (feature-boundaries.spec.ts).
 */
export const UploadBodyStream = createParamDecorator(
  (_data: unknown, context: ExecutionContext): UploadBody =>
    context.switchToHttp().getRequest<UploadBody>(),
);
