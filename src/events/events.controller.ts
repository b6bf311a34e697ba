import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ValidationError } from '../common/errors.js';
import type { AolRequest } from '../common/request-actor.js';
import { EventStore } from './event-store.js';
import { EventsQueryDto, StateQueryDto, StreamQueryDto } from './events.dto.js';
import { StoredEvent } from './event.types.js';
import { replayTo, resolveAt, ReplayedState } from './replay.js';
import { VerifyResult } from './event-store.js';
import { RequireRole } from '../auth/auth.decorators.js';
import { ReplayLimiter } from '../common/rate-limit.js';
import { SseRelays } from './sse-relay.js';

@ApiTags('events')
@ApiBearerAuth()
@Controller()
export class EventsController {
  constructor(
    private readonly store: EventStore,
    private readonly relays: SseRelays,
    private readonly replays: ReplayLimiter,
  ) {}

  @RequireRole('viewer')
  @Get('events')
  async list(
    @Query() q: EventsQueryDto,
  ): Promise<{ events: StoredEvent[]; next_after: number | null }> {
    const limit = q.limit ?? 100;
    const events = await this.store.read({
      after: q.after ?? 0,
      limit,
      stream: q.stream,
      type: q.type,
    });
    return { events, next_after: events.length === limit ? events[events.length - 1].seq : null };
  }

  @RequireRole('viewer')
  @Get('events/verify')
  verify(): Promise<VerifyResult> {
    return this.store.verify();
  }

  @RequireRole('viewer')
  @Get('state')
  state(@Query() q: StateQueryDto, @Req() req: AolRequest): Promise<ReplayedState> {
    return this.replays.run(req.principal?.name ?? 'anonymous', async () =>
      replayTo(this.store, await resolveAt(this.store, q.at)),
    );
  }

  /**
   * Server-Sent Events. `id:` is the seq, so a reconnecting EventSource sends
   * Last-Event-ID and resumes right after the last event it saw. Without it
   * (or `?after=`) the stream starts live at the current head. Bounded per
   * client and capped in number (sse-relay.ts).
   */
  @RequireRole('viewer')
  @Get('events/stream')
  async stream(
    @Query() q: StreamQueryDto,
    @Req() req: AolRequest,
    @Res() res: Response,
  ): Promise<void> {
    const lastId = req.header('last-event-id');
    if (lastId !== undefined && !/^\d+$/.test(lastId))
      throw new ValidationError('Last-Event-ID must be a seq number');
    const release = this.relays.admit(req.principal?.name ?? 'anonymous');
    let from: number;
    try {
      from = lastId !== undefined ? Number(lastId) : (q.after ?? (await this.store.headSeq()));
    } catch (err) {
      release();
      throw err;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(`retry: 2000\n: streaming after seq ${from}\n\n`);
    this.relays.relay(res, from, q.stream, release);
  }
}
