import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { Equals } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { ReasonDto } from '../common/reason.dto.js';
import { actorFrom, type AolRequest } from '../common/request-actor.js';
import { LeaseService } from './lease.service.js';
import { LeaseView } from './lease.sql.js';
import { Dangerous, RequireRole } from '../auth/auth.decorators.js';

export class ForceReleaseDto extends ReasonDto {
  @ApiProperty({ example: true, description: 'must be true' })
  @Equals(true, {
    message: 'force must be true: releasing a lease someone holds is a forced operation',
  })
  force!: boolean;
}

@ApiTags('lease')
@ApiBearerAuth()
@Controller('lease')
export class LeaseController {
  constructor(private readonly lease: LeaseService) {}

  @RequireRole('viewer')
  @Get()
  get(): Promise<LeaseView> {
    return this.lease.get();
  }

  @RequireRole('admin')
  @Dangerous()
  @Post('release')
  @HttpCode(200)
  release(@Body() body: ForceReleaseDto, @Req() req: AolRequest) {
    return this.lease.forceRelease(body.reason, actorFrom(req));
  }
}
