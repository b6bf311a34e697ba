import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { parseBoundedInt } from '../common/bounded.js';
import type { AolRequest } from '../common/request-actor.js';
import { EventStore } from './event-store.js';
import { EventNotifier } from './event-notifier.js';
import { EventsQueryDto, StateQueryDto, StreamQueryDto } from './events.dto.js';
import { StoredEvent } from './event.types.js';
import { replayTo, resolveAt, ReplayedState } from './replay.js';
import { subscribeEvents } from './subscribe.js';
import { VerifyResult } from './event-store.js';
import { RequireRole } from '../auth/auth.decorators.js';

const HEARTBEAT_MS = 15_000;

@ApiTags('events')
@ApiBearerAuth()
@Controller()
export class EventsController {
  constructor(
    private readonly store: EventStore,
    private readonly notifier: EventNotifier,
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
  async state(@Query() q: StateQueryDto): Promise<ReplayedState> {
    return replayTo(this.store, await resolveAt(this.store, q.at));
  }

  /**
   * Server-Sent Events. `id:` is the seq, so a reconnecting EventSource sends
   * Last-Event-ID and resumes right after the last event it saw. Without it
   * (or `?after=`) the stream starts live at the current head.
   */
  @RequireRole('viewer')
  @Get('events/stream')
  async stream(
    @Query() q: StreamQueryDto,
    @Req() req: AolRequest,
    @Res() res: Response,
  ): Promise<void> {
    // Checked before the stream starts: a bad cursor is a 400, never a 200 that never delivers.
    const lastId = req.header('last-event-id');
    const from =
      lastId !== undefined
        ? parseBoundedInt(lastId, 'Last-Event-ID')
        : (q.after ?? (await this.store.headSeq()));
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(`retry: 2000\n: streaming after seq ${from}\n\n`);
    const sub = subscribeEvents(this.store, this.notifier, from, { stream: q.stream }).subscribe(
      (e) => {
        res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      },
    );
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    req.on('close', () => {
      clearInterval(heartbeat);
      sub.unsubscribe();
    });
  }
}
