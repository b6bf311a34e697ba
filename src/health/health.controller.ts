import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { IsOptional, IsString } from 'class-validator';
import { Db } from '../db/db.js';
import { EventNotifier } from '../events/event-notifier.js';
import { Public } from '../auth/auth.decorators.js';
import { dbReason } from '../common/db-reason.js';
import { AolHealth, HealthService } from './health.service.js';

export class HealthQueryDto {
  /** A seq number or an ISO-8601 time: what health said then, replayed from the log. */
  @IsOptional()
  @IsString()
  at?: string;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(
        () => reject(new Error(`database did not answer within ${ms / 1000}s`)),
        ms,
      ).unref(),
    ),
  ]);
}

@ApiTags('health')
@ApiBearerAuth()
@Controller('health')
export class HealthController {
  constructor(
    private readonly db: Db,
    private readonly health: HealthService,
    private readonly notifier: EventNotifier,
  ) {}

  /** 200 when the process and the database answer; 503 with the reason when the database does not. */
  @Public()
  @Get()
  async ping(
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ status: string; reason?: string }> {
    try {
      await withTimeout(this.db.query('SELECT 1'), 3000);
      return { status: 'ok' };
    } catch (err) {
      res.status(503);
      return { status: 'unavailable', reason: `database unreachable: ${dbReason(err)}` };
    }
  }

  /** The operator's view; 503 only when the database is unreachable. */
  @Public()
  @Get('aol')
  async aol(
    @Query() q: HealthQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AolHealth | { status: string; reason: string }> {
    if (q.at !== undefined) return this.health.at(q.at);
    try {
      const report = await withTimeout(this.health.live(this.db), 3000);
      return {
        ...report,
        lag: {
          projection_events: 0,
          subscription_events: Math.max(0, report.last_event_seq - this.notifier.lastSeq),
        },
      } as AolHealth;
    } catch (err) {
      res.status(503);
      return { status: 'unavailable', reason: `database unreachable: ${dbReason(err)}` };
    }
  }
}
