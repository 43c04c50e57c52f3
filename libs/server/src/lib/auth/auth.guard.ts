import {
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

import { AuthService, type AuthenticatedUser } from './auth.service';

export const PUBLIC = 'vigil:public';
/** Marks a route that answers without authentication (probes, metrics, login). */
export const Public = () => SetMetadata(PUBLIC, true);

type AuthedRequest = Request & { user?: AuthenticatedUser };

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** Every HTTP route needs a valid token unless it is @Public (or Vigil runs in demo mode). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AuthService) private readonly auth: AuthService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    if (
      this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])
    )
      return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const user = this.auth.authenticate(bearerToken(request.headers.authorization));
    if (!user)
      throw new UnauthorizedException('a valid token is required (POST /api/v1/auth/login)');
    request.user = user;
    return true;
  }
}

export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedUser => {
    const user = context.switchToHttp().getRequest<AuthedRequest>().user;
    if (!user) throw new UnauthorizedException();
    return user;
  },
);
