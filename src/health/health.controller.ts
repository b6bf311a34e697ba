import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  NestMiddleware,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { IsOptional, IsString } from 'class-validator';
import { Db } from '../db/db.js';
import { EventNotifier } from '../events/event-notifier.js';
import { Public, RequireRole } from '../auth/auth.decorators.js';
import { dbReason } from '../common/db-reason.js';
import { HEALTH_DB } from '../common/tokens.js';
import { ReplayLimiter } from '../common/rate-limit.js';
import type { AolRequest } from '../common/request-actor.js';
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
    @Inject(HEALTH_DB) private readonly db: Db,
    private readonly health: HealthService,
    private readonly notifier: EventNotifier,
    private readonly replays: ReplayLimiter,
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
      return unavailable(res, err);
    }
  }

  /**
   * The operator's view; 503 only when the database is unreachable. Public;
   * with `?at=` a replay of the log, which needs a viewer token and is rate
   * limited (common/rate-limit.ts).
   */
  @Public({ unlessQuery: 'at' })
  @RequireRole('viewer')
  @Get('aol')
  async aol(
    @Query() q: HealthQueryDto,
    @Req() req: AolRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AolHealth | { status: string; reason: string }> {
    const at = q.at;
    if (at !== undefined)
      return this.replays.run(req.principal?.name ?? 'anonymous', () => this.health.at(at));
    return liveReport(this.db, this.health, this.notifier, res);
  }
}

/** The live report (no `?at=`): the projected read models in one statement. */
async function liveReport(
  db: Db,
  health: HealthService,
  notifier: EventNotifier,
  res: Response,
): Promise<AolHealth | { status: string; reason: string }> {
  try {
    const report = await withTimeout(health.live(db), 3000);
    return {
      ...report,
      // Projections run inside the append's transaction, so they never lag
      // the log; what can lag is this process's LISTEN view (event-notifier.ts).
      lag: {
        subscription_events: Math.max(0, report.last_event_seq - notifier.lastSeq),
      },
    } as AolHealth;
  } catch (err) {
    return unavailable(res, err);
  }
}

/**
 * `GET /health/aol` without a query string — what probes and dashboards poll —
 * answered right after the request log middleware (pino-http), before Nest's
 * route pipeline: it is public and has no input, so the guard, the pipes and
 * the validation of an empty query have nothing to decide, and on the 2-core
 * bench machine they were most of the request's CPU (docs/benchmarks.md §4).
 * Everything registered with app.use (request id, security headers, CORS)
 * has already run; the body and status are the controller's (liveReport).
 * Anything else (`?at=`, other methods) goes on to HealthController.
 */
@Injectable()
export class LiveHealthMiddleware implements NestMiddleware {
  constructor(
    @Inject(HEALTH_DB) private readonly db: Db,
    private readonly health: HealthService,
    private readonly notifier: EventNotifier,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    if (req.method !== 'GET' || req.originalUrl !== '/health/aol') return next();
    liveReport(this.db, this.health, this.notifier, res).then(
      (body) => res.json(body),
      (err: unknown) => next(err),
    );
  }
}

/** 503 with the reason: unreachable, or every probe connection busy (then the database is up but saturated). */
function unavailable(res: Response, err: unknown): { status: string; reason: string } {
  const busy = /timeout exceeded when trying to connect/.test((err as Error)?.message ?? '');
  res.status(503);
  res.setHeader('Retry-After', busy ? '1' : '2');
  return {
    status: 'unavailable',
    reason: busy
      ? 'database busy: no health connection free within 3s'
      : `database unreachable: ${dbReason(err)}`,
  };
}
