import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpException,
  Inject,
  Post,
  Req,
  UnauthorizedException,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';

import { parseOr400 } from '../common/parse';
import { Public, CurrentUser, bearerToken } from './auth.guard';
import { AuthService, type AuthenticatedUser } from './auth.service';

export const loginBody = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

/** The peer address: proxies are not trusted, so a forwarded header cannot dodge the limits. */
function clientAddress(request: Request): string {
  return request.socket.remoteAddress ?? 'unknown';
}

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Log in: a signed, expiring token and the user (role, scope). 401 wrong credentials; 429 too many attempts from this address or for this user (Retry-After); 503 too many checks at once',
  })
  async login(@Body() body: unknown, @Req() request: Request) {
    const { username, password } = parseOr400(loginBody, body);
    const result = await this.auth.login(username, password, clientAddress(request));
    if (result.ok) return result.session;
    if (result.refused) {
      const retryAfter = Math.max(1, Math.ceil(result.refused.retryAfterMs / 1000));
      request.res?.setHeader('Retry-After', String(retryAfter));
      const message =
        result.refused.reason === 'user-locked'
          ? 'this user is locked after repeated failed logins; try again later'
          : result.refused.reason === 'address-limited'
            ? 'too many login attempts from this address; try again later'
            : 'too many logins being checked at once; try again shortly';
      throw new HttpException(
        { statusCode: result.refused.reason === 'busy' ? 503 : 429, message, retryAfter },
        result.refused.reason === 'busy' ? 503 : 429,
      );
    }
    throw new UnauthorizedException('wrong user name or password');
  }

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Log out: the token is revoked at once (401 from then on)' })
  logout(@Headers('authorization') authorization: string | undefined, @Req() request: Request) {
    this.auth.logout(bearerToken(authorization), clientAddress(request));
  }

  @Public()
  @Get('mode')
  @ApiOperation({ summary: 'Whether Vigil runs in demo mode (the console offers the demo users)' })
  mode() {
    return { demo: this.auth.demoMode };
  }

  @Get('me')
  me(@CurrentUser() user: AuthenticatedUser) {
    return user;
  }
}
