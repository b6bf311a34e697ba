import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { Equals } from 'class-validator';
import { ReasonDto } from '../control/control.dto.js';
import { actorFrom, type AolRequest } from '../common/request-actor.js';
import { LeaseService } from './lease.service.js';
import { LeaseView } from './lease.sql.js';

export class ForceReleaseDto extends ReasonDto {
  @Equals(true, {
    message: 'force must be true: releasing a lease someone holds is a forced operation',
  })
  force!: boolean;
}

@Controller('lease')
export class LeaseController {
  constructor(private readonly lease: LeaseService) {}

  @Get()
  get(): Promise<LeaseView> {
    return this.lease.get();
  }

  @Post('release')
  @HttpCode(200)
  release(@Body() body: ForceReleaseDto, @Req() req: AolRequest) {
    return this.lease.forceRelease(body.reason, actorFrom(req));
  }
}
