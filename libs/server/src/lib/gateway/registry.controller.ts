import { Controller, HttpCode, Inject, Post, UnprocessableEntityException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

import { RegistryError } from '@vigil/registry';

import { CurrentUser } from '../auth/auth.guard';
import type { AuthenticatedUser } from '../auth/auth.service';
import { AuthorizationService } from '../auth/authorization.service';
import { RegistryHolder } from '../registry/registry-holder';

@ApiTags('registry')
@Controller('api/v1/registry')
export class RegistryController {
  constructor(
    @Inject(RegistryHolder) private readonly registry: RegistryHolder,
    @Inject(AuthorizationService) private readonly authorization: AuthorizationService,
  ) {}

  /**
   * Re-reads the registry files of this process (all services, when they run in one process;
   * separate processes reload on SIGHUP). Invalid files are refused with every problem listed and
   * the running registry stays in force. Rule state of devices whose rules still exist is kept.
   */
  @Post('reload')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reload the registry and rule configuration without a restart (admin)' })
  reload(@CurrentUser() user: AuthenticatedUser) {
    this.authorization.assert(user, 'registry');
    try {
      const next = this.registry.reload();
      return { sites: next.sites.length, devices: next.devices.length };
    } catch (error) {
      if (error instanceof RegistryError)
        throw new UnprocessableEntityException({
          statusCode: 422,
          message: 'registry is invalid',
          problems: error.problems,
        });
      throw error;
    }
  }
}
