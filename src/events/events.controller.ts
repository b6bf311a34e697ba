import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { CONFIG } from '../common/tokens.js';
import type { Config } from '../config/config.js';
import { Db } from '../db/db.js';
import { Checkpoint, listCheckpoints } from './checkpoints.js';
import { CheckpointedVerifyResult, verifyLog } from './checkpoint-verify.js';
import { KeyFormatError, parsePublicKey } from '../common/signing.js';
import type { Response } from 'express';
import { parseBoundedInt } from '../common/bounded.js';
import { ValidationError } from '../common/errors.js';
import type { AolRequest } from '../common/request-actor.js';
import { EventStore } from './event-store.js';
import {
  CheckpointsQueryDto,
  EventsQueryDto,
  StreamQueryDto,
  VerifyQueryDto,
} from './events.dto.js';
import { StoredEvent } from './event.types.js';
import { RequireRole } from '../auth/auth.decorators.js';
import { SseRelays } from './sse-relay.js';

@ApiTags('events')
@ApiBearerAuth()
@Controller()
export class EventsController {
  constructor(
    private readonly store: EventStore,
    private readonly relays: SseRelays,
    private readonly db: Db,
    @Inject(CONFIG) private readonly config: Config,
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
      heartbeats: q.heartbeats,
    });
    return { events, next_after: events.length === limit ? events[events.length - 1].seq : null };
  }

  /**
   * The hash chain, checked against every signed checkpoint in the log and in
   * AOL_CHECKPOINT_DIR, with `public_key` (as `aol keys generate` prints it),
   * else this server's own key. The answer says what could not be checked.
   */
  @RequireRole('viewer')
  @Get('events/verify')
  verify(@Query() q: VerifyQueryDto): Promise<CheckpointedVerifyResult> {
    let key: KeyObject | undefined = this.config.signingKey;
    if (q.public_key !== undefined) {
      try {
        key = parsePublicKey(q.public_key);
      } catch (err) {
        if (err instanceof KeyFormatError) throw new ValidationError(`public_key ${err.message}`);
        throw err;
      }
    }
    return verifyLog(this.store, this.db, {
      key,
      dir: this.config.checkpointDir,
      incremental: q.incremental === 'true' && q.full !== 'true',
    });
  }

  /** The signed checkpoints in the log, oldest first: the JSON array an auditor saves. */
  @RequireRole('viewer')
  @Get('events/checkpoints')
  checkpoints(@Query() q: CheckpointsQueryDto): Promise<Checkpoint[]> {
    return listCheckpoints(this.db, q.after ?? 0);
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
    // Checked before the stream starts: a bad cursor is a 400, never a 200 that never delivers.
    const lastId = req.header('last-event-id');
    const lastFrom = lastId !== undefined ? parseBoundedInt(lastId, 'Last-Event-ID') : undefined;
    const release = this.relays.admit(req.principal?.name ?? 'anonymous');
    let from: number;
    try {
      from = lastFrom ?? q.after ?? (await this.store.headSeq());
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
