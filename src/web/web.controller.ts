import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { Response } from 'express';
import type { Config } from '../config/config.js';
import { CONFIG } from '../common/tokens.js';
import { Db } from '../db/db.js';
import type { AolRequest } from '../common/request-actor.js';
import { Public, RequireRole } from '../auth/auth.decorators.js';

export class TicksQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

/** What the operator UI needs beyond the public REST API: its config, who the token is, recent ticks. */
@ApiTags('ui')
@ApiBearerAuth()
@Controller()
export class WebController {
  constructor(
    private readonly db: Db,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** The UI's runtime config (no secrets): same-origin backend, whether dangerous operations are shown. */
  @Public()
  @Get('config.js')
  configJs(@Res() res: Response): void {
    const cfg = {
      backendUrl: '',
      dangerousUiOps: this.config.dangerousUiOps,
      production: this.config.production,
      authRequired: !!this.config.apiTokens,
    };
    res.setHeader('Content-Type', 'application/javascript; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(`window.AOL_CONFIG = ${JSON.stringify(cfg)};\n`);
  }

  @RequireRole('viewer')
  @Get('whoami')
  whoami(@Req() req: AolRequest): { name: string; role: string } {
    return { name: req.principal?.name ?? 'anonymous', role: req.principal?.role ?? 'viewer' };
  }

  /** The last ticks, oldest first (for the chart). */
  @RequireRole('viewer')
  @Get('ticks')
  async ticks(@Query() q: TicksQueryDto) {
    const { rows } = await this.db.query(
      `SELECT * FROM (SELECT * FROM aol_tick_ledger ORDER BY seq DESC LIMIT $1) t ORDER BY seq`,
      [q.limit ?? 60],
    );
    return { ticks: rows };
  }
}
