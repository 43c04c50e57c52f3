import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import { parseOr400 } from '../gateway/parse';
import { Public, CurrentUser } from './auth.guard';
import { AuthService, type AuthenticatedUser } from './auth.service';

const loginBody = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in: a signed, expiring token and the user (role, scope)' })
  login(@Body() body: unknown) {
    const { username, password } = parseOr400(loginBody, body);
    const session = this.auth.login(username, password);
    if (!session) throw new UnauthorizedException('wrong user name or password');
    return session;
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
