import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpException,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';

import {
  ENTERPRISE_CODE_PATTERN,
  supervisionApprovalBody,
  supervisionOrderBody,
  uplinkBatchSchema,
  type SupervisionOrder,
  type UplinkAck,
  type UplinkEnterprise,
} from '@vigil/contracts';

import { CurrentUser, Public, bearerToken } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { parseOr400 } from '../common/parse';
import { UplinkReceiver } from './uplink-receiver';

export const linkOrdersQuery = z.strictObject({
  enterpriseCode: z.string().regex(ENTERPRISE_CODE_PATTERN),
  /** The newest order seq the lower holds. */
  after: z.coerce.number().int().min(0).default(0),
});

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

  @Public()
  @Get('links/orders')
  @ApiOperation({
    summary:
      'A lower Vigil (link token as Bearer) fetches the supervision orders issued to its enterprise after `after`',
  })
  linkOrders(
    @Headers('authorization') authorization: string | undefined,
    @Query() query: unknown,
  ): { orders: SupervisionOrder[] } {
    const token = bearerToken(authorization);
    if (token === undefined) throw new HttpException('a link token is required (Bearer)', 401);
    const { enterpriseCode, after } = parseOr400(linkOrdersQuery, query);
    const result = this.receiver.ordersFor(enterpriseCode, token, after);
    if (!result.ok) throw new HttpException(result.message, result.status);
    return { orders: result.orders };
  }

  @Post('enterprises/:code/orders')
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Issues a supervision order (挂牌督办) to an enterprise below (a supervisor or admin whose scope holds its link node); its Vigil fetches it',
  })
  issueOrder(
    @CurrentUser() user: AuthenticatedUser,
    @Param('code') code: string,
    @Body() body: unknown,
  ): SupervisionOrder {
    this.authorization.assert(user, 'supervise');
    const link = this.receiver.link(code);
    if (!link || !this.authorization.canSeeOrgNode(user, link.node))
      throw new NotFoundException(`enterprise ${code} is not below this user's scope`);
    const parsed = parseOr400(supervisionOrderBody, body);
    try {
      return this.receiver.issueOrder(code, parsed, user);
    } catch (error) {
      // Not durable: not issued (the journal counted it and /readyz shows it).
      throw new HttpException((error as Error).message, 503);
    }
  }

  @Post('enterprises/:code/hazards/:id/approve')
  @HttpCode(201)
  @ApiOperation({
    summary:
      "Approves an accepted major hazard of an enterprise below (a supervisor or admin whose scope holds its link node): carried down with the orders, applied there as the hazard's approve step",
  })
  approveHazard(
    @CurrentUser() user: AuthenticatedUser,
    @Param('code') code: string,
    @Param('id') id: string,
    @Body() body: unknown,
  ): SupervisionOrder {
    this.authorization.assert(user, 'supervise');
    const link = this.receiver.link(code);
    if (!link || !this.authorization.canSeeOrgNode(user, link.node))
      throw new NotFoundException(`enterprise ${code} is not below this user's scope`);
    const { note } = parseOr400(supervisionApprovalBody, body ?? {});
    let result: ReturnType<UplinkReceiver['approveHazard']>;
    try {
      result = this.receiver.approveHazard(code, id, note, user);
    } catch (error) {
      // Not durable: not approved (the journal counted it and /readyz shows it).
      throw new HttpException((error as Error).message, 503);
    }
    if (!result.ok) throw new HttpException(result.message, result.status);
    return result.order;
  }
}
