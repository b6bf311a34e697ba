import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { actorFrom, type AolRequest } from '../common/request-actor.js';
import { RequireRole } from '../auth/auth.decorators.js';
import { OptionalReasonDto } from '../control/control.dto.js';
import { SchedulesService } from './schedules.service.js';
import { CreateScheduleDto, ListSchedulesDto } from './schedules.dto.js';

/** Recurring schedules: operators manage them, viewers read them. */
@ApiTags('schedules')
@ApiBearerAuth()
@Controller('schedules')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  /** 201 with the new schedule and its next fire times. */
  @RequireRole('operator')
  @Post()
  create(@Body() body: CreateScheduleDto, @Req() req: AolRequest) {
    const { reason, ...input } = body;
    return this.schedules.create(input, actorFrom(req), reason);
  }

  @RequireRole('viewer')
  @Get()
  list(@Query() q: ListSchedulesDto) {
    return this.schedules.list(q.all === 'true');
  }

  @RequireRole('viewer')
  @Get(':id')
  get(@Param('id') id: string) {
    return this.schedules.get(id);
  }

  @RequireRole('operator')
  @Post(':id/pause')
  @HttpCode(200)
  pause(@Param('id') id: string, @Body() body: OptionalReasonDto, @Req() req: AolRequest) {
    return this.schedules.pause(id, actorFrom(req), body.reason);
  }

  @RequireRole('operator')
  @Post(':id/resume')
  @HttpCode(200)
  resume(@Param('id') id: string, @Body() body: OptionalReasonDto, @Req() req: AolRequest) {
    return this.schedules.resume(id, actorFrom(req), body.reason);
  }

  /** The schedule stays readable (status DELETED, GET /schedules?all=true); it never fires again. */
  @RequireRole('operator')
  @Delete(':id')
  @HttpCode(200)
  remove(@Param('id') id: string, @Body() body: OptionalReasonDto, @Req() req: AolRequest) {
    return this.schedules.delete(id, actorFrom(req), body?.reason);
  }
}
