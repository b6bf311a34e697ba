import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Req,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ForbiddenError, ValidationError } from '../common/errors.js';
import { CONFIG } from '../common/tokens.js';
import type { Config } from '../config/config.js';
import { actorFrom, type AolRequest } from '../common/request-actor.js';
import { Dangerous, RequireRole } from '../auth/auth.decorators.js';
import { assertDangerousAllowed } from '../auth/auth.guard.js';
import { hasRole, Role } from '../auth/tokens.js';
import { ControlChange } from './control.decider.js';
import { OptionalReasonDto, PauseDto, ProofModeDto, ReasonDto, ResumeDto } from './control.dto.js';
import { ControlResult, ControlService, ControlView } from './control.service.js';

/** `If-Match: "3"`, `W/"3"` or `3` → 3; absent → undefined; anything else is a 400. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!m) throw new ValidationError('If-Match must be the control version, e.g. "3"');
  return Number(m[1]);
}

@ApiTags('control')
@ApiBearerAuth()
@Controller('control')
export class ControlController {
  constructor(
    private readonly control: ControlService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @RequireRole('viewer')
  @Get()
  async get(@Res({ passthrough: true }) res: Response): Promise<ControlView> {
    const view = await this.control.get();
    res.setHeader('ETag', `"${view.version}"`);
    return view;
  }

  @RequireRole('operator')
  @Post('pause')
  @HttpCode(200)
  async pause(
    @Body() body: PauseDto,
    @Req() req: AolRequest,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (body.action_types === undefined && body.until === undefined)
      return this.run('pause', body.reason, req, ifMatch, res);
    const result = await this.control.pauseScoped(
      { actionTypes: body.action_types, until: body.until ? new Date(body.until) : undefined },
      body.reason,
      actorFrom(req),
      parseIfMatch(ifMatch),
    );
    res.setHeader('ETag', `"${result.version}"`);
    return result;
  }

  @RequireRole('operator')
  @Post('resume')
  @HttpCode(200)
  async resume(
    @Body() body: ResumeDto,
    @Req() req: AolRequest,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (body.pause_id === undefined) return this.run('resume', body.reason, req, ifMatch, res);
    const result = await this.control.resumeScoped(body.pause_id, body.reason, actorFrom(req));
    res.setHeader('ETag', `"${result.version}"`);
    return result;
  }

  @RequireRole('operator')
  @Post('kill')
  @HttpCode(200)
  kill(
    @Body() body: ReasonDto,
    @Req() req: AolRequest,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.run('kill', body.reason, req, ifMatch, res);
  }

  @RequireRole('operator')
  @Post('revive')
  @HttpCode(200)
  revive(
    @Body() body: ReasonDto,
    @Req() req: AolRequest,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.run('revive', body.reason, req, ifMatch, res);
  }

  /** Proof on: operators, immediate. Proof off: admins only, a dangerous operation, four-eyes in production (202). */
  @RequireRole('operator')
  @Put('proof-mode')
  @HttpCode(200)
  async proofMode(
    @Body() body: ProofModeDto,
    @Req() req: AolRequest,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (!body.enabled) {
      const role = (req.principal?.role ?? 'viewer') as Role;
      if (!hasRole(role, 'admin'))
        throw new ForbiddenError(
          `turning proof mode off needs the admin role; ${req.principal?.name} is ${role}`,
        );
      assertDangerousAllowed(req, this.config);
    }
    const result = await this.run(
      body.enabled ? 'proof-on' : 'proof-off',
      body.reason,
      req,
      ifMatch,
      res,
    );
    if (result.accepted) res.status(202);
    return result;
  }

  /** A second admin approves a production proof-off request. */
  @RequireRole('admin')
  @Dangerous()
  @Post('proof-mode/approve/:requestId')
  @HttpCode(200)
  approve(
    @Param('requestId') requestId: string,
    @Body() body: OptionalReasonDto,
    @Req() req: AolRequest,
  ) {
    if (!/^[0-9a-f-]{36}$/i.test(requestId))
      throw new ValidationError('requestId must be a request id (a UUID)');
    return this.control.approve(requestId, actorFrom(req), body.reason);
  }

  private async run(
    change: ControlChange,
    reason: string,
    req: AolRequest,
    ifMatch: string | undefined,
    res: Response,
  ): Promise<ControlResult> {
    const result = await this.control.change(change, reason, actorFrom(req), parseIfMatch(ifMatch));
    res.setHeader('ETag', `"${result.version}"`);
    return result;
  }
}
