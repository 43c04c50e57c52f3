import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpException,
  Inject,
  Post,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { uplinkBatchSchema, type UplinkAck, type UplinkEnterprise } from '@vigil/contracts';

import { CurrentUser, Public, bearerToken } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { parseOr400 } from '../common/parse';
import { UplinkReceiver } from './uplink-receiver';

/**
 * The upper side of the uplink (issue 15, docs/interfaces.md §Uplink): batches from the Vigils of
 * the enterprises below, authenticated by their link token (not a user's), and the read model of
 * those enterprises for the users whose scope holds the link's node.
 */
@ApiTags('uplink')
@Controller('api/v1/uplink')
export class UplinkController {
  constructor(
    @Inject(UplinkReceiver) private readonly receiver: UplinkReceiver,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
  ) {}

  @Public()
  @Post('batches')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'A batch from a lower Vigil (link token as Bearer): stored durably, deduplicated by (enterprise code, seq); answers the highest contiguous seq held',
  })
  batch(
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ): UplinkAck {
    const token = bearerToken(authorization);
    // Not a word about the body to a caller without any link token.
    if (token === undefined) throw new HttpException('a link token is required (Bearer)', 401);
    const batch = parseOr400(uplinkBatchSchema, body);
    const result = this.receiver.receive(batch, token);
    if (!result.ok) throw new HttpException(result.message, result.status);
    return result.ack;
  }

  @Get('enterprises')
  @ApiOperation({
    summary:
      'The enterprises below this Vigil that the user may see (scope at or above the link node): their latest alarms, hazards and major-hazard data',
  })
  enterprises(@CurrentUser() user: AuthenticatedUser): UplinkEnterprise[] {
    this.authorization.assert(user, 'uplink');
    return this.receiver
      .enterprises()
      .filter(enterprise => this.authorization.canSeeOrgNode(user, enterprise.node));
  }
}
