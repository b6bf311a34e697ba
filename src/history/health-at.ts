import type { Db } from '../db/db.js';
import type { EventStore } from '../events/event-store.js';
import { logger } from '../common/log.js';
import type { HealthInputsAt } from '../health/health.service.js';
import { parseInstant, resolveAt } from './replay.js';
import { replayerAt } from './snapshots.js';

/** GET /health/aol?at=: health's inputs folded from the nearest snapshot at or before `at`. */
export function healthInputsAt(db: Db, store: EventStore): HealthInputsAt {
  return async (at) => {
    const seq = await resolveAt(store, at);
    const r = await replayerAt(db, seq, {
      onRejected: (s, why) => logger('history').warn(`snapshot of seq ${s} not used: ${why}`),
    });
    const now = /^\d+$/.test(at) ? undefined : parseInstant(at, 'at');
    return { inputs: r.healthInputs(now), atSeq: r.state().at_seq };
  };
}
