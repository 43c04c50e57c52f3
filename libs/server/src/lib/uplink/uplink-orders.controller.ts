import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import type { SupervisionOrder } from '@vigil/contracts';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { UplinkForwarder } from './uplink-forwarder';

/** The lower side's supervision orders (挂牌督办) from the upper Vigil (issue 15). */
@ApiTags('uplink')
@Controller('api/v1/uplink')
export class UplinkOrdersController {
  constructor(
    @Inject(UplinkForwarder) private readonly forwarder: UplinkForwarder,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
  ) {}

  @Get('orders')
  @ApiOperation({
    summary:
      'The supervision orders (挂牌督办) the upper Vigil issued to this enterprise, newest first (users who see any of its sites)',
  })
  orders(@CurrentUser() user: AuthenticatedUser): SupervisionOrder[] {
    this.authorization.assert(user, 'uplink');
    return this.authorization.visibleSites(user).size > 0 ? this.forwarder.orders() : [];
  }
}
