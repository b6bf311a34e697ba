import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { actorFrom, type AolRequest } from '../common/request-actor.js';
import { ActionsService } from './actions.service.js';
import { EnqueueDto, ListActionsDto, parseId } from './actions.dto.js';
import { OptionalReasonDto } from '../common/reason.dto.js';
import { RequireRole } from '../auth/auth.decorators.js';

@ApiTags('events')
@ApiBearerAuth()
@Controller()
export class ActionsController {
  constructor(private readonly actions: ActionsService) {}

  /** 201 with the new action, or 200 with the existing one for a known idempotency_key. */
  @RequireRole('operator')
  @Post('actions')
  async enqueue(
    @Body() body: EnqueueDto,
    @Req() req: AolRequest,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { action, created } = await this.actions.enqueue(body, actorFrom(req));
    res.status(created ? 201 : 200);
    return action;
  }

  @RequireRole('viewer')
  @Get('actions')
  list(@Query() q: ListActionsDto) {
    return this.actions.list(q.status, q.limit ?? 50, q.cursor);
  }

  @RequireRole('viewer')
  @Get('actions/:id')
  get(@Param('id') id: string) {
    return this.actions.get(parseId(id));
  }

  @RequireRole('viewer')
  @Get('actions/:id/artifact')
  async artifact(@Param('id') id: string, @Res() res: Response) {
    const a = await this.actions.artifact(parseId(id));
    res.setHeader('Content-Type', a.contentType);
    res.setHeader('X-Artifact-SHA256', a.sha256);
    res.setHeader('X-Artifact-Ref', a.ref);
    res.status(200).end(a.body);
  }

  @RequireRole('operator')
  @Post('actions/:id/retry')
  @HttpCode(200)
  retry(@Param('id') id: string, @Body() body: OptionalReasonDto, @Req() req: AolRequest) {
    return this.actions.retry(parseId(id), actorFrom(req), body.reason);
  }

  @RequireRole('operator')
  @Post('actions/:id/cancel')
  @HttpCode(200)
  cancel(@Param('id') id: string, @Body() body: OptionalReasonDto, @Req() req: AolRequest) {
    return this.actions.cancel(parseId(id), actorFrom(req), body.reason);
  }

  @RequireRole('operator')
  @Post('dlq/retry')
  @HttpCode(200)
  dlqRetry(@Body() body: OptionalReasonDto, @Req() req: AolRequest) {
    return this.actions.dlq('retry', actorFrom(req), body.reason);
  }

  @RequireRole('operator')
  @Post('dlq/cancel')
  @HttpCode(200)
  dlqCancel(@Body() body: OptionalReasonDto, @Req() req: AolRequest) {
    return this.actions.dlq('cancel', actorFrom(req), body.reason);
  }
}
