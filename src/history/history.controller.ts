import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Query, Req } from '@nestjs/common';
import { Db } from '../db/db.js';
import type { AolRequest } from '../common/request-actor.js';
import { EventStore } from '../events/event-store.js';
import { RequireRole } from '../auth/auth.decorators.js';
import { ReplayLimiter } from '../common/rate-limit.js';
import { logger } from '../common/log.js';
import { StateQueryDto } from './history.dto.js';
import { ReplayedState, resolveAt } from './replay.js';
import { replayTo } from './snapshots.js';

/** State at a point of the log: folded from the nearest snapshot at or before it. */
@ApiTags('events')
@ApiBearerAuth()
@Controller()
export class HistoryController {
  constructor(
    private readonly store: EventStore,
    private readonly replays: ReplayLimiter,
    private readonly db: Db,
  ) {}

  @RequireRole('viewer')
  @Get('state')
  state(@Query() q: StateQueryDto, @Req() req: AolRequest): Promise<ReplayedState> {
    return this.replays.run(req.principal?.name ?? 'anonymous', async () =>
      replayTo(this.db, await resolveAt(this.store, q.at), {
        onRejected: (s, why) => logger('history').warn(`snapshot of seq ${s} not used: ${why}`),
      }),
    );
  }
}
